/** The request headers written once must be, byte for byte and header for header, what nats-core would send. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { headers as natsHeaders, MsgHdrsImpl, type MsgHdrs } from "@nats-io/nats-core";
import { isMeshError } from "../errors.ts";
import { EncodedHeaders } from "./encoded-headers.ts";

function natsEncoded(entries: readonly (readonly [string, string])[]): Uint8Array {
  const h = natsHeaders();
  for (const [name, value] of entries) h.set(name, value);
  return (h as MsgHdrsImpl).encode();
}

const encode = (h: MsgHdrs) => (h as MsgHdrsImpl).encode();

const CASES: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]> = [
  ["deadline only", [["Mw-Deadline", "1764474600000"]]],
  ["a caller's usual four", [["Mw-Deadline", "1764474600000"], ["Mw-Tenant", "acme"], ["traceparent", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"], ["Mw-Service", "llm"]]],
  ["an idempotency key with punctuation", [["Mw-Deadline", "1"], ["Mw-Idempotency-Key", "order:42/a=b"]]],
  ["a non-ASCII value", [["Mw-Deadline", "1"], ["Mw-Tenant", "café"]]],
];

for (const [name, entries] of CASES) {
  test(`${name}: the same bytes as nats-core's set() and encode(), and the same headers read back`, () => {
    const h = EncodedHeaders.of(entries);
    assert.deepEqual(Buffer.from(encode(h)), Buffer.from(natsEncoded(entries)));
    for (const [header, value] of entries) assert.equal(h.get(header), value);
    assert.deepEqual(MsgHdrsImpl.decode(encode(h)).toRecord(), (h as MsgHdrsImpl).toRecord());
  });
}

test("no headers encode to no bytes, as in nats-core", () => {
  assert.equal(encode(EncodedHeaders.of([])).length, 0);
});

test("a value with CR or LF is refused as the caller's BAD_REQUEST, never sent", () => {
  assert.throws(() => EncodedHeaders.of([["Mw-Deadline", "1"], ["Mw-Tenant", "a\r\nInjected: yes"]]),
    (error) => isMeshError(error) && error.code === "BAD_REQUEST" && /Mw-Tenant cannot contain CR or LF/.test(error.message));
});

test("a value with surrounding whitespace is trimmed as nats-core trims it", () => {
  const entries = [["Mw-Deadline", "1"], ["Mw-Tenant", " acme "]] as const;
  const h = EncodedHeaders.of(entries);
  assert.equal(h.get("Mw-Tenant"), "acme");
  assert.deepEqual(Buffer.from(encode(h)), Buffer.from(natsEncoded(entries)));
});

test("headers changed after they were built are encoded as they are now", () => {
  const h = EncodedHeaders.of([["Mw-Deadline", "1"], ["Mw-Tenant", "acme"]]);
  h.set("Mw-Tenant", "globex");
  h.append("Mw-Service", "billing");
  assert.deepEqual(Buffer.from(encode(h)), Buffer.from(natsEncoded([["Mw-Deadline", "1"], ["Mw-Tenant", "globex"], ["Mw-Service", "billing"]])));
  h.delete("Mw-Service");
  assert.deepEqual(Buffer.from(encode(h)), Buffer.from(natsEncoded([["Mw-Deadline", "1"], ["Mw-Tenant", "globex"]])));
});
