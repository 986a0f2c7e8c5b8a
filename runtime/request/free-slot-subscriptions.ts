import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { Logger } from "pino";

/** How long after this replica last had to queue a request it keeps drawing work with free slots. */
export const BUSY_WINDOW_MS = 1000;
/**
 * Free-slot subscriptions per endpoint at most: the weight that counts is "some" against "none"
 * (a full replica holds one subscription), and this bounds the protocol traffic of a replica
 * with a large `maxInFlight`.
 */
export const MAX_FREE_SLOT_SUBSCRIPTIONS = 16;

export interface SlotEndpoint {
  readonly subject: string;
  onMessage(msg: Msg): void;
}

/**
 * NATS gives each request of a queue group to one of the group's subscriptions at random, so a
 * replica whose slots are all busy draws as many requests as one with free slots, and queues
 * them while its peers idle. Once this replica has had to queue a request (its group is near
 * capacity), it also holds, on each endpoint, one single-message queue subscription per free
 * slot: a replica with free slots then holds more of the group's subscriptions than a full one
 * and draws more of its requests. The server removes a single-message subscription itself when
 * it delivers the message, so no request is lost to an unsubscribe racing a delivery; the
 * replica's permanent subscription stays, so the group always has a responder.
 */
export class FreeSlotSubscriptions {
  readonly #nc: NatsConnection;
  readonly #queue: string;
  readonly #endpoints: readonly SlotEndpoint[];
  readonly #log: Logger;
  readonly #busyWindowMs: number;
  readonly #outstanding: number[];
  readonly #open = new Set<Subscription>();
  #busyUntil = 0;
  #stopped = false;

  constructor(options: { nc: NatsConnection; queue: string; endpoints: readonly SlotEndpoint[]; log: Logger; busyWindowMs?: number }) {
    this.#nc = options.nc;
    this.#queue = options.queue;
    this.#endpoints = options.endpoints;
    this.#log = options.log;
    this.#busyWindowMs = options.busyWindowMs ?? BUSY_WINDOW_MS;
    this.#outstanding = options.endpoints.map(() => 0);
  }

  /** Free-slot subscriptions open now, over all endpoints. */
  get open(): number {
    return this.#open.size;
  }

  /** A request found every slot busy: for the next busy window (BUSY_WINDOW_MS), free slots draw work. */
  requestQueued(): void {
    this.#busyUntil = Date.now() + this.#busyWindowMs;
  }

  /**
   * A request is finishing and `free` slots will be free after it. Called right after its reply
   * is sent, so the subscriptions go out in the same write as the reply.
   */
  requestFinished(free: number): void {
    if (free <= 0 || this.#stopped || Date.now() >= this.#busyUntil || this.#nc.isClosed() || this.#nc.isDraining()) return;
    const wanted = Math.min(free, MAX_FREE_SLOT_SUBSCRIPTIONS);
    for (let index = 0; index < this.#endpoints.length; index++) {
      while (this.#outstanding[index]! < wanted) this.#subscribeOnce(index);
    }
  }

  /** Stops opening subscriptions and drains the open ones (their messages are still handled). */
  async drain(): Promise<void> {
    this.#stopped = true;
    const open = [...this.#open];
    this.#open.clear();
    await Promise.allSettled(open.map((subscription) => subscription.drain()));
  }

  #subscribeOnce(index: number): void {
    const endpoint = this.#endpoints[index]!;
    this.#outstanding[index]!++;
    const subscription = this.#nc.subscribe(endpoint.subject, {
      queue: this.#queue,
      max: 1,
      callback: (error, msg) => {
        this.#open.delete(subscription);
        this.#outstanding[index]!--;
        if (!error) return endpoint.onMessage(msg);
        // The permanent subscription reports the same failure; opening more would repeat it.
        if (this.#stopped) return;
        this.#stopped = true;
        this.#log.error({ err: error, subject: endpoint.subject }, "free-slot subscription failed");
      },
    });
    this.#open.add(subscription);
  }
}
