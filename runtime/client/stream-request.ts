import { createInbox, Match, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { STREAM_HEADERS } from "../../protocol/llm.ts";
import { MeshError } from "../errors.ts";

/** A streamed request in flight: iterate the chunks, then await `result` for the final reply. */
export interface StreamCall<Chunk, Result> extends AsyncIterable<Chunk> {
  /** The final reply (or its typed error); settles after the last chunk. */
  readonly result: Promise<Result>;
  /** Stops the stream: the responder is told to stop, and iteration ends. */
  cancel(): void;
}

const encoder = new TextEncoder();
/** Default window: chunks the responder may send beyond the last one this caller consumed. */
export const DEFAULT_STREAM_WINDOW = 64;

type Item<C> = { chunk: C } | { end: true };

/**
 * The caller's side of a streamed reply (wire form: protocol/llm.ts). Chunks are acknowledged
 * when the iterator hands them out, so a caller that reads slowly slows the responder down
 * (half-window acknowledgements). A gap in the sequence, or a final message whose chunk count
 * differs from what arrived, fails `result` with UNAVAILABLE: the stream lost a message.
 */
export function openStreamCall<Chunk, Result>(options: {
  nc: NatsConnection;
  subject: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  deadline: number;
  /** Chunks in flight beyond the last consumed one; 0: no flow control (callers outside the mesh account cannot acknowledge). */
  window: number;
  signal: AbortSignal | undefined;
  decodeFinal: (msg: Msg) => Result;
  decodeChunk: (data: Uint8Array) => Chunk;
}): StreamCall<Chunk, Result> {
  const { nc } = options;
  const { options: connectionOptions } = nc as unknown as { options?: { inboxPrefix?: string } };
  const inbox = createInbox(connectionOptions?.inboxPrefix);
  const queue: Item<Chunk>[] = [];
  let wake: (() => void) | undefined;
  let received = 0;
  let consumed = 0;
  let acknowledged = 0;
  let lastChunk: Msg | undefined;
  let cancelled = false;
  let cancelSent = false;
  let finished = false;
  let resolveResult!: (value: Result) => void;
  let rejectResult!: (error: unknown) => void;
  const result = new Promise<Result>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  result.catch(() => undefined); // a caller that only iterates still sees the failure there
  let subscription: Subscription | undefined;
  const ackEvery = Math.max(1, Math.floor(options.window / 2));

  const finish = (outcome: { value: Result } | { error: unknown }) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", cancel);
    subscription?.unsubscribe();
    if ("value" in outcome) resolveResult(outcome.value);
    else rejectResult(outcome.error);
    queue.push({ end: true });
    wake?.();
  };
  const sendCancel = () => {
    if (cancelSent || !lastChunk) return;
    cancelSent = true;
    try {
      lastChunk.respond(encoder.encode('{"cancel":true}'));
    } catch {
      // the connection is closing; the responder stops at its stall bound or deadline
    }
  };
  function cancel(): void {
    if (finished || cancelled) return;
    cancelled = true;
    sendCancel();
    finish({ error: new MeshError("TIMEOUT", "cancelled by the caller") });
  }
  const timer = setTimeout(() => {
    sendCancel();
    finish({ error: new MeshError("TIMEOUT", "no end of stream before the deadline") });
  }, Math.max(0, options.deadline - Date.now()));

  subscription = nc.subscribe(inbox, {
    callback: (error, msg) => {
      if (error) return finish({ error: new MeshError("UNAVAILABLE", "stream subscription closed", { cause: error, retryAfterMs: 250 }) });
      const seq = msg.headers?.get(STREAM_HEADERS.seq, Match.IgnoreCase);
      if (seq) {
        received += 1;
        lastChunk = msg;
        if (Number(seq) !== received) return finish({ error: new MeshError("UNAVAILABLE", `stream chunk ${received} lost`, { retryAfterMs: 250 }) });
        try {
          queue.push({ chunk: options.decodeChunk(msg.data) });
        } catch (decodeError) {
          return finish({ error: new MeshError("INTERNAL", "malformed stream chunk", { cause: decodeError }) });
        }
        wake?.();
        return;
      }
      const chunks = Number(msg.headers?.get(STREAM_HEADERS.chunks, Match.IgnoreCase) ?? "0");
      try {
        const value = options.decodeFinal(msg);
        if (chunks !== received) return finish({ error: new MeshError("UNAVAILABLE", `stream lost ${chunks - received} chunks`, { retryAfterMs: 250 }) });
        finish({ value });
      } catch (finalError) {
        finish({ error: finalError });
      }
    },
  });
  if (options.signal?.aborted) cancel();
  else options.signal?.addEventListener("abort", cancel, { once: true });
  if (!finished) {
    if (options.window > 0) options.headers.set(STREAM_HEADERS.window, String(options.window));
    try {
      nc.publish(options.subject, options.payload, { reply: inbox, headers: options.headers });
    } catch (error) {
      finish({ error: new MeshError("UNAVAILABLE", "cannot publish the request", { cause: error, retryAfterMs: 250 }) });
    }
  }

  const acknowledge = () => {
    if (!lastChunk || cancelled || options.window === 0 || consumed - acknowledged < ackEvery) return;
    acknowledged = consumed;
    try {
      lastChunk.respond(encoder.encode(JSON.stringify({ ack: consumed })));
    } catch {
      // the connection is closing: the final message or the deadline ends the stream
    }
  };

  return {
    result,
    cancel,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const item = queue.shift();
          if (!item) {
            await new Promise<void>((resolve) => { wake = resolve; });
            wake = undefined;
            continue;
          }
          // Every chunk that arrived before the end was yielded; a failure ends iteration with it.
          if ("end" in item) return void (await result);
          consumed += 1;
          acknowledge();
          yield item.chunk;
        }
      } finally {
        // The consumer stopped early (break, return, throw): tell the responder to stop.
        cancel();
      }
    },
  };
}
