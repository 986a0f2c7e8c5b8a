/**
 * Watches a durable consumer's acknowledgements from the outside: every ack is a message on
 * `$JS.ACK.<stream>.<durable>.…`, whose subject carries the time the stream stored the
 * message. So the bare and the mesh consumer are measured the same way without touching
 * either: when each ack happened, and the stored→acked latency.
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { Samples } from "./stats.ts";

export interface AckMonitor {
  readonly acks: number;
  /** `performance.now()` of each ack, in arrival order. */
  readonly ackTimes: Samples;
  /** Stored→acked ms of each ack, in arrival order. */
  readonly latencies: Samples;
  /** Resolves when `count` acks were seen, or after `timeoutMs` (whichever first). */
  untilAcks(count: number, timeoutMs: number): Promise<void>;
  stop(): void;
}

const PLUS = 0x2b;
const A = 0x41;

/**
 * The offset between `performance.timeOrigin + performance.now()` and the system clock the
 * server stamps messages with, taken at a tick of `Date.now()` so it is good to well under 1 ms.
 */
function calibrateWallClock(): () => number {
  const start = Date.now();
  let tick = start;
  while (tick === start) tick = Date.now();
  const offset = tick - (performance.timeOrigin + performance.now());
  return () => performance.timeOrigin + performance.now() + offset;
}

/**
 * Stored time (epoch ms) from an ack subject. v1: `$JS.ACK.<stream>.<consumer>.<delivered>.
 * <sseq>.<dseq>.<ts>.<pending>`; v2 adds domain and account hash after ACK and a token at the end.
 */
export function storedAtFromAckSubject(subject: string): number {
  const tokens = subject.split(".");
  const index = tokens.length === 9 ? 7 : tokens.length >= 11 ? 9 : -1;
  const nanos = index < 0 ? Number.NaN : Number(tokens[index]);
  return nanos / 1e6;
}

export function startAckMonitor(nc: NatsConnection, stream: string, durable: string): AckMonitor {
  const ackTimes = new Samples();
  const latencies = new Samples();
  const wallClock = calibrateWallClock();
  let waiter: { count: number; resolve: () => void } | undefined;
  const subscription: Subscription = nc.subscribe(`$JS.ACK.${stream}.${durable}.>`, {
    callback: (error, msg) => {
      if (error || msg.data[0] !== PLUS || msg.data[1] !== A) return; // naks, progress, terms
      ackTimes.push(performance.now());
      latencies.push(wallClock() - storedAtFromAckSubject(msg.subject));
      if (waiter && ackTimes.length >= waiter.count) waiter.resolve();
    },
  });
  return {
    get acks() {
      return ackTimes.length;
    },
    ackTimes,
    latencies,
    untilAcks(count, timeoutMs) {
      if (ackTimes.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        }
        waiter = { count, resolve: done };
      });
    },
    stop() {
      subscription.unsubscribe();
    },
  };
}
