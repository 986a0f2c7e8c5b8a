import { headers as natsHeaders, MsgHdrsImpl, type MsgHdrs } from "@nats-io/nats-core";
import { MeshError } from "../errors.ts";

/** Values nats-core's `set` would refuse (CR, LF) or change (surrounding whitespace). */
const NEEDS_NATS_CHECKS = /[\r\n]|^\s|\s$/;

/**
 * Request headers whose wire form is written once, as they are built: nats-core's `set()`
 * lists every header name twice per call and `encode()` joins and encodes the whole block
 * again, about 2 µs of the caller's CPU per request (issue 13's profile). `MsgHdrsImpl` and its
 * `encode()` are public exports of nats-core; the map it reads holds the same headers, so
 * whatever reads these headers (or encodes them another way) sees exactly what the bytes say.
 * A change through `set`, `append` or `delete` drops the bytes: `encode()` is then nats-core's.
 */
export class EncodedHeaders extends MsgHdrsImpl {
  #wire: Uint8Array | undefined;

  private constructor(entries: readonly (readonly [string, string])[]) {
    super();
    let text = "NATS/1.0";
    for (const [name, value] of entries) {
      this.headers.set(name, [value]);
      text += `\r\n${name}: ${value}`;
    }
    this.#wire = Buffer.from(`${text}\r\n\r\n`);
  }

  /**
   * Headers with these names (valid header names, each once) and values, in this order. A
   * value nats-core would trim goes through nats-core's `set`; one it refuses (CR or LF, which
   * would forge headers) is the caller's BAD_REQUEST.
   */
  static of(entries: readonly (readonly [string, string])[]): MsgHdrs {
    // No headers encode to no bytes at all in nats-core, not to an empty block.
    if (entries.length === 0) return natsHeaders();
    for (const [, value] of entries) {
      if (NEEDS_NATS_CHECKS.test(value)) return viaNats(entries);
    }
    return new EncodedHeaders(entries);
  }

  override encode(): Uint8Array {
    return this.#wire ?? super.encode();
  }

  override set(...args: Parameters<MsgHdrsImpl["set"]>): void {
    this.#wire = undefined;
    super.set(...args);
  }

  override append(...args: Parameters<MsgHdrsImpl["append"]>): void {
    this.#wire = undefined;
    super.append(...args);
  }

  override delete(...args: Parameters<MsgHdrsImpl["delete"]>): void {
    this.#wire = undefined;
    super.delete(...args);
  }
}

function viaNats(entries: readonly (readonly [string, string])[]): MsgHdrs {
  const h = natsHeaders();
  for (const [name, value] of entries) {
    if (/[\r\n]/.test(value)) throw new MeshError("BAD_REQUEST", `${name} cannot contain CR or LF`);
    h.set(name, value);
  }
  return h;
}
