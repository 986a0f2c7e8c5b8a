/**
 * Pulls messages with `consume()` and runs at most `concurrency` handlers at once. While
 * every slot is busy the loop stops reading, and `consume()` only asks the server for more
 * as the loop reads, so a replica holds at most about twice `concurrency` messages.
 * Stopping: no more pulls, messages received but not started are nak'ed (redelivered at
 * once, possibly to another replica), started handlers finish and ack or nak.
 */
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";

export interface PullLoopOptions {
  readonly consumer: Consumer;
  readonly concurrency: number;
  readonly handle: (message: JsMsg, receivedAt: number) => Promise<void>;
  /** The durable consumer vanished (deleted by an operator): recreate it. */
  readonly recreateConsumer: () => Promise<void>;
  readonly isConnectionClosed: () => boolean;
  readonly onError: (reason: string, error: unknown) => void;
  /** A message that waited locally longer than this gets `working()` before its handler starts. */
  readonly workingAfterMs: number;
}

export interface PullLoop {
  /** Resolves when no handler runs any more. */
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;
/**
 * A pull lost with a consumer leader that died (a NATS node killed) is noticed when two idle
 * heartbeats (half this each) are missed, and pulled again. The client's default, 30 s, left a
 * consumer idle for 30 s after a failover in the cluster test; 5 s costs an idle replica one
 * pull request per 5 s.
 */
const PULL_EXPIRES_MS = 5000;

export function startPullLoop(options: PullLoopOptions): PullLoop {
  const { consumer, concurrency, handle, onError } = options;
  let inFlight = 0;
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  let wakeFromRestartDelay: (() => void) | undefined;
  // One waiter for "a slot is free" instead of Promise.race over every running handler, which
  // attached a reaction to each of them for every message read while the slots were full.
  let slotFreed: (() => void) | undefined;
  let allFinished: (() => void) | undefined;

  // Bound once: a closure per message showed in the consumer's profile.
  const release = (): void => {
    inFlight--;
    const wake = slotFreed;
    slotFreed = undefined;
    wake?.();
    if (inFlight === 0) allFinished?.();
  };
  const crashed = (error: unknown): void => {
    onError("handler crashed", error);
    release();
  };

  function dispatch(message: JsMsg, receivedAt: number): void {
    inFlight++;
    handle(message, receivedAt).then(release, crashed);
  }

  async function readMessages(current: ConsumerMessages): Promise<void> {
    // Since when the loop has been held up by full slots; messages buffered meanwhile wait too.
    let heldSince: number | undefined;
    for await (const message of current) {
      while (!stopping && inFlight >= concurrency) {
        heldSince ??= Date.now();
        await new Promise<void>((resolve) => { slotFreed = resolve; });
      }
      if (stopping) {
        message.nak();
        continue;
      }
      // A message that waited long in the local buffer has used part of its ack wait: restart
      // the timer so it is not redelivered elsewhere while its handler still runs here. Only
      // then: a working() per message doubled the writes to the server.
      if (heldSince !== undefined && Date.now() - heldSince >= options.workingAfterMs) message.working();
      if (current.getPending() === 0) heldSince = undefined;
      dispatch(message, Date.now());
    }
  }

  async function watchStatus(current: ConsumerMessages): Promise<void> {
    for await (const status of current.status()) {
      if (status.type === "consumer_deleted" || status.type === "consumer_not_found") {
        await options.recreateConsumer().catch((error: unknown) => onError("consumer could not be recreated", error));
      }
    }
  }

  async function run(): Promise<void> {
    while (!stopping && !options.isConnectionClosed()) {
      try {
        const current = await consumer.consume({ max_messages: concurrency, expires: PULL_EXPIRES_MS });
        messages = current;
        if (stopping) {
          await current.close();
          break;
        }
        watchStatus(current).catch((error: unknown) => onError("status watch failed", error));
        await readMessages(current);
      } catch (error) {
        if (stopping || options.isConnectionClosed()) break;
        onError("pulling failed; restarting", error);
      }
      if (stopping || options.isConnectionClosed()) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RESTART_DELAY_MS);
        wakeFromRestartDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  const running = run();

  return {
    async stop() {
      stopping = true;
      wakeFromRestartDelay?.();
      await messages?.close().catch(() => undefined);
      await running;
      if (inFlight > 0) await new Promise<void>((resolve) => { allFinished = resolve; });
    },
  };
}
