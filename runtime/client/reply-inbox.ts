import { createInbox, PermissionViolationError, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { MeshError } from "../errors.ts";

interface Pending {
  resolve(msg: Msg): void;
  reject(error: MeshError): void;
  deadline: number;
  subject: string;
}

const SWEEP_INTERVAL_MS = 10;

/**
 * One wildcard reply subscription per client: each request gets a token appended to the
 * inbox prefix and is matched on arrival. Deadlines are checked by one shared sweeper
 * instead of a timer per request.
 */
export class ReplyInbox {
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  readonly #subscription: Subscription;
  #sequence = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(nc: NatsConnection) {
    // The user's permissions allow only its own inbox prefix (nats.js's JetStream reads it the same way).
    const { options } = nc as unknown as { options?: { inboxPrefix?: string } };
    this.#prefix = `${createInbox(options?.inboxPrefix)}.`;
    this.#subscription = nc.subscribe(`${this.#prefix}*`, {
      callback: (error, msg) => {
        if (error instanceof PermissionViolationError) return this.#failAll(new MeshError("FORBIDDEN", "this user may not receive replies on its inbox", { cause: error }));
        if (error) return this.#failAll(new MeshError("UNAVAILABLE", "reply subscription closed", { cause: error, retryAfterMs: 250 }));
        const token = msg.subject.slice(this.#prefix.length);
        const pending = this.#pending.get(token);
        if (!pending) return; // late reply after the caller gave up
        this.#pending.delete(token);
        pending.resolve(msg);
      },
    });
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Registers a pending reply and returns its token; the request goes out with
   * `replySubject(token)`. A token, not an object with a cancel closure: this runs per request.
   */
  expect(subject: string, deadline: number, resolve: (msg: Msg) => void, reject: (error: MeshError) => void): string {
    const token = (this.#sequence++).toString(36);
    this.#pending.set(token, { resolve, reject, deadline, subject });
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    return token;
  }

  replySubject(token: string): string {
    return this.#prefix + token;
  }

  /** Forgets a pending reply (the caller gave up); a late reply is then dropped. */
  cancel(token: string): void {
    this.#pending.delete(token);
  }

  /** Fails every pending request sent to `subject` (the server refused to take it). */
  failSubject(subject: string, error: MeshError): void {
    for (const [token, pending] of this.#pending) {
      if (pending.subject !== subject) continue;
      this.#pending.delete(token);
      pending.reject(error);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [token, pending] of this.#pending) {
      if (pending.deadline <= now) {
        this.#pending.delete(token);
        pending.reject(new MeshError("TIMEOUT", "no reply before the deadline"));
      }
    }
    if (this.#pending.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #failAll(error: MeshError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#failAll(new MeshError("UNAVAILABLE", "client closed"));
    this.#subscription.unsubscribe();
  }
}
