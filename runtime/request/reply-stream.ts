import { createInbox, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { MAX_STREAM_WINDOW, STREAM_HEADERS, STREAM_STALL_MS, StreamControl } from "../../protocol/llm.ts";
import { MeshError } from "../errors.ts";
import type { ReplyStream } from "../types.ts";

const decoder = new TextDecoder();

/** The window a request asked for; malformed or out of range is BAD_REQUEST, absent is undefined (no flow control). */
export function parseStreamWindow(value: string): number | undefined {
  if (!value) return undefined;
  const window = Number(value);
  if (!Number.isSafeInteger(window) || window < 1 || window > MAX_STREAM_WINDOW) {
    throw new MeshError("BAD_REQUEST", `malformed ${STREAM_HEADERS.window} header (1..${MAX_STREAM_WINDOW})`);
  }
  return window;
}

/**
 * The sending side of a streamed reply (wire form: protocol/llm.ts). Chunks go to the request's
 * reply subject with a sequence header and the stream's control subject as their reply; the
 * caller's acknowledgements and cancellation arrive there. `send` waits while a full window is
 * unacknowledged; a caller silent for STREAM_STALL_MS, a cancel, or the deadline aborts `signal`.
 */
export class ReplyStreamSender implements ReplyStream {
  readonly #nc: NatsConnection;
  readonly #replyTo: string;
  readonly #window: number | undefined;
  readonly #controller = new AbortController();
  readonly #stallMs: number;
  #control: Subscription | undefined;
  #controlSubject = "";
  #sent = 0;
  #acked = 0;
  #wakeUp: (() => void) | undefined;

  constructor(options: { nc: NatsConnection; replyTo: string; window: number | undefined; deadlineSignal: AbortSignal; stallMs?: number }) {
    this.#nc = options.nc;
    this.#replyTo = options.replyTo;
    this.#window = options.window;
    this.#stallMs = options.stallMs ?? STREAM_STALL_MS;
    const stop = (reason: unknown) => this.#stop(reason);
    if (options.deadlineSignal.aborted) stop(options.deadlineSignal.reason);
    else options.deadlineSignal.addEventListener("abort", () => stop(options.deadlineSignal.reason), { once: true });
  }

  /** Aborted when the caller cancels, goes silent past the stall bound, or the deadline passes. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Chunks sent so far. */
  get sent(): number {
    return this.#sent;
  }

  async send(chunk: unknown): Promise<void> {
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
    this.#control ??= this.#openControl();
    if (this.#window !== undefined) await this.#waitForWindow(this.#window);
    this.#sent += 1;
    const h = natsHeaders();
    h.set(STREAM_HEADERS.seq, String(this.#sent));
    this.#nc.publish(this.#replyTo, Buffer.from(JSON.stringify(chunk)), { headers: h, reply: this.#controlSubject });
  }

  /** Ends the control subscription; the final reply is the runtime's ordinary reply. */
  close(): void {
    this.#control?.unsubscribe();
    this.#wakeUp?.();
  }

  #openControl(): Subscription {
    const { options } = this.#nc as unknown as { options?: { inboxPrefix?: string } };
    this.#controlSubject = createInbox(options?.inboxPrefix);
    return this.#nc.subscribe(this.#controlSubject, { callback: (error, msg) => { if (!error) this.#onControl(msg); } });
  }

  #onControl(msg: Msg): void {
    let parsed: StreamControl;
    try {
      const result = StreamControl.safeParse(JSON.parse(decoder.decode(msg.data)));
      if (!result.success) return;
      parsed = result.data;
    } catch {
      return; // not ours to answer: a malformed control message is ignored
    }
    if ("cancel" in parsed) return this.#stop(new MeshError("TIMEOUT", "the caller cancelled the stream"));
    this.#acked = Math.max(this.#acked, Math.min(parsed.ack, this.#sent));
    this.#wakeUp?.();
  }

  async #waitForWindow(window: number): Promise<void> {
    while (this.#sent - this.#acked >= window) {
      if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
      const stalled = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), this.#stallMs);
        const abort = () => done(false);
        const done = (value: boolean) => {
          clearTimeout(timer);
          this.#controller.signal.removeEventListener("abort", abort);
          this.#wakeUp = undefined;
          resolve(value);
        };
        this.#wakeUp = () => done(false);
        this.#controller.signal.addEventListener("abort", abort, { once: true });
      });
      if (stalled) this.#stop(new MeshError("TIMEOUT", `the caller acknowledged nothing for ${this.#stallMs} ms`));
    }
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
  }

  #stop(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }
}
