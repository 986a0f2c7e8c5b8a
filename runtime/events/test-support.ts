/** Helpers shared by this folder's tests (not exported from index.ts). */
import type { NatsConnection } from "@nats-io/nats-core";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { ConsumerEvent } from "./types.ts";
import type { TestServers } from "../../sandbox/testing/test-servers.ts";

/** A connection as the operator, closed before the servers stop. */
export async function connectForTest(servers: Pick<TestServers, "connectNats">): Promise<NatsConnection> {
  return servers.connectNats();
}

/** Every message stored in a stream, oldest first. */
export async function readStream(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const { state } = await jsm.streams.info(stream);
  const found: StoredMsg[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq });
    if (message) found.push(message);
  }
  return found;
}

/** Records consumer events and resolves waits when enough of a kind have arrived. */
export function eventRecorder() {
  const events: ConsumerEvent[] = [];
  const waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  function check(): void {
    for (const waiter of [...waiters]) {
      if (waiter.predicate()) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
  return {
    events,
    listener: (event: ConsumerEvent): void => {
      events.push(event);
      check();
    },
    count: (type: ConsumerEvent["type"]): number => events.filter((event) => event.type === type).length,
    /** Resolves once `count` events of `type` have been seen. */
    until(type: ConsumerEvent["type"], count = 1): Promise<void> {
      return new Promise((resolve) => {
        waiters.push({ predicate: () => events.filter((event) => event.type === type).length >= count, resolve });
        check();
      });
    },
  };
}

/** A promise with its resolve function exposed, to open a gate from a test. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
