import { PermissionViolationError, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import type { z } from "zod";
import type { ActorContract, RequestContract } from "../../protocol/contract.ts";
import { ErrorReply } from "../../protocol/errors.ts";
import { HEADERS } from "../../protocol/headers.ts";
import { MeshError, isMeshError } from "../errors.ts";
import { retryDelayMs } from "../resilience/retry.ts";
import { EncodedHeaders } from "./encoded-headers.ts";
import { ReplyInbox } from "./reply-inbox.ts";
import { DEFAULT_STREAM_WINDOW, openStreamCall, type StreamCall } from "./stream-request.ts";
import { traceClientRequest, tracingEnabled } from "../observability/tracing.ts";

/** Waits between attempts without a retryAfterMs hint: 50, 100, 200 ... ms (before jitter). */
const CLIENT_BACKOFF = { initialDelayMs: 50, maxDelayMs: 2000 };

export interface CallOptions {
  tenant?: string;
  /** Absolute deadline (epoch ms); wins over timeoutMs. */
  deadline?: number;
  timeoutMs?: number;
  traceparent?: string;
  idempotencyKey?: string;
  signal?: AbortSignal | undefined;
  /** Attempts for retryable codes, including the first. Default from the client. */
  maxAttempts?: number;
  /**
   * How long one attempt waits for its reply before it counts as lost (the replica it reached
   * may have died) and the next attempt is sent; the deadline header still carries the whole
   * deadline. Default: each attempt may use the whole deadline. Give mutating requests an
   * idempotency key when setting this, so that a lost attempt that did run is not run twice.
   */
  attemptTimeoutMs?: number;
}

export interface MeshClientOptions {
  /** This caller's service name, sent for attribution. */
  service?: string;
  defaultTimeoutMs?: number;
  maxAttempts?: number;
}

const decoder = new TextDecoder();

/** A reply that is not JSON (a foreign responder on the subject) is INTERNAL, never a SyntaxError. */
export function decodeReply(msg: Msg): unknown {
  try {
    return decodeReplyBody(msg);
  } catch (error) {
    if (error instanceof SyntaxError) throw new MeshError("INTERNAL", "malformed reply", { cause: error });
    throw error;
  }
}

function decodeReplyBody(msg: Msg): unknown {
  const code = msg.headers?.get(HEADERS.errorCode);
  if (code) {
    const parsed = ErrorReply.safeParse(JSON.parse(decoder.decode(msg.data)));
    if (!parsed.success) throw new MeshError("INTERNAL", "malformed error reply");
    const { error } = parsed.data;
    throw new MeshError(error.code, error.message, error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs });
  }
  if (msg.headers?.hasError) {
    // Status from the server itself: 503 means nobody listens on the subject.
    if (msg.headers.code === 503) throw new MeshError("UNAVAILABLE", "no responders", { retryAfterMs: 200 });
    throw new MeshError("UNAVAILABLE", `server status ${msg.headers.code}`, { retryAfterMs: 200 });
  }
  return msg.data.length === 0 ? undefined : JSON.parse(decoder.decode(msg.data));
}

/** An attempt that ran out of its own time, with time left in the deadline, is retryable: its replica may be gone. */
function lostAttempt(error: unknown, attemptDeadline: number, deadline: number, signal: AbortSignal | undefined): unknown {
  if (!isMeshError(error) || error.code !== "TIMEOUT" || attemptDeadline >= deadline || signal?.aborted || Date.now() >= deadline) return error;
  return new MeshError("UNAVAILABLE", "no reply within the attempt's time", { retryAfterMs: 0, cause: error });
}

/** Calls actors: sets the mesh headers, propagates the deadline, retries retryable codes inside it. */
export class MeshClient {
  readonly #nc: NatsConnection;
  readonly #inbox: ReplyInbox;
  readonly #options: Required<MeshClientOptions>;
  #closed = false;
  #stopStatuses: () => void = () => {};

  constructor(nc: NatsConnection, options: MeshClientOptions = {}) {
    this.#nc = nc;
    this.#inbox = new ReplyInbox(nc);
    // Ends with the connection; nothing is left to fail then.
    this.#watchPermissionErrors().catch(() => undefined);
    this.#options = { service: options.service ?? "", defaultTimeoutMs: options.defaultTimeoutMs ?? 5000, maxAttempts: options.maxAttempts ?? 3 };
  }

  request<R extends RequestContract>(contract: R, input: z.input<R["input"]>, options: CallOptions = {}): Promise<z.output<R["output"]>> {
    // Not async: one promise fewer per request on the hot path; input JSON cannot encode still rejects.
    let payload: Uint8Array;
    try {
      payload = Buffer.from(JSON.stringify(input));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.requestBytes(contract.subject, payload, options) as Promise<z.output<R["output"]>>;
  }

  /** Sends an already-encoded payload; decodes the reply or throws the typed error. */
  requestBytes(subject: string, payload: Uint8Array, options: CallOptions = {}): Promise<unknown> {
    if (tracingEnabled()) return this.#tracedRequest(subject, payload, options);
    return this.#requestBytes(subject, payload, options);
  }

  #tracedRequest(subject: string, payload: Uint8Array, options: CallOptions): Promise<unknown> {
    return traceClientRequest(subject, { traceparent: options.traceparent, tenant: options.tenant, service: this.#options.service },
      (traceparent) => this.#requestBytes(subject, payload, { ...options, traceparent }));
  }

  async #requestBytes(subject: string, payload: Uint8Array, options: CallOptions): Promise<unknown> {
    const deadline = options.deadline ?? Date.now() + (options.timeoutMs ?? this.#options.defaultTimeoutMs);
    const maxAttempts = options.maxAttempts ?? this.#options.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      const attemptDeadline = options.attemptTimeoutMs === undefined ? deadline : Math.min(deadline, Date.now() + options.attemptTimeoutMs);
      let replied = false;
      try {
        const reply = await this.#send(subject, payload, this.#headersFor(options, deadline), attemptDeadline, options.signal);
        replied = true;
        return decodeReply(reply);
      } catch (thrown) {
        // No reply within the attempt's own time may mean its replica died: see lostAttempt.
        const error = replied ? thrown : lostAttempt(thrown, attemptDeadline, deadline, options.signal);
        if (!isMeshError(error) || !error.retryable || attempt >= maxAttempts) throw error;
        const wait = retryDelayMs(attempt, error, CLIENT_BACKOFF);
        if (Date.now() + wait >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * A request whose reply is streamed (contracts with `streaming`, wire form in protocol/llm.ts):
   * iterate the chunks, then await `result`. One attempt, no retries: chunks already handed out
   * cannot be taken back. `window` bounds the chunks in flight (default 64;
   * 0 for callers outside the mesh account, whose acknowledgements cannot reach the responder).
   */
  stream<R extends RequestContract, Chunk>(contract: R, input: z.input<R["input"]>, options: CallOptions & { window?: number; decodeChunk: (data: Uint8Array) => Chunk }): StreamCall<Chunk, z.output<R["output"]>> {
    const deadline = options.deadline ?? Date.now() + (options.timeoutMs ?? this.#options.defaultTimeoutMs);
    return openStreamCall({
      nc: this.#nc,
      subject: contract.subject,
      payload: Buffer.from(JSON.stringify(input)),
      headers: this.#headersFor(options, deadline),
      deadline,
      window: options.window ?? DEFAULT_STREAM_WINDOW,
      signal: options.signal,
      decodeFinal: (msg) => decodeReply(msg) as z.output<R["output"]>,
      decodeChunk: options.decodeChunk,
    });
  }

  /**
   * The server answers a publish its permissions deny with an asynchronous -ERR naming the
   * subject, and drops the message: requests waiting on that subject fail FORBIDDEN at once
   * instead of running into their deadline.
   */
  async #watchPermissionErrors(): Promise<void> {
    const statuses = this.#nc.status();
    this.#stopStatuses = () => (statuses as { stop?: () => void }).stop?.();
    for await (const status of statuses) {
      if (this.#closed) return;
      if (status.type !== "error" || !(status.error instanceof PermissionViolationError) || status.error.operation !== "publish") continue;
      this.#inbox.failSubject(status.error.subject, new MeshError("FORBIDDEN", `not permitted to send to ${status.error.subject}`));
    }
  }

  #headersFor(options: CallOptions, deadline: number): MsgHdrs {
    const entries: [string, string][] = [[HEADERS.deadline, String(deadline)]];
    if (options.tenant) entries.push([HEADERS.tenant, options.tenant]);
    if (options.traceparent) entries.push([HEADERS.traceparent, options.traceparent]);
    if (options.idempotencyKey) entries.push([HEADERS.idempotencyKey, options.idempotencyKey]);
    if (this.#options.service) entries.push([HEADERS.service, this.#options.service]);
    return EncodedHeaders.of(entries);
  }

  #send(subject: string, payload: Uint8Array, headers: MsgHdrs, deadline: number, signal: AbortSignal | undefined): Promise<Msg> {
    if (signal?.aborted) return Promise.reject(new MeshError("TIMEOUT", "cancelled before sending"));
    if (deadline <= Date.now()) return Promise.reject(new MeshError("TIMEOUT", "deadline already passed"));
    return new Promise<Msg>((resolve, reject) => {
      if (!signal) {
        this.#publish(subject, payload, headers, this.#inbox.expect(subject, deadline, resolve, reject), reject);
        return;
      }
      const onAbort = () => {
        this.#inbox.cancel(token);
        reject(new MeshError("TIMEOUT", "cancelled"));
      };
      const token = this.#inbox.expect(
        subject,
        deadline,
        (msg) => {
          signal.removeEventListener("abort", onAbort);
          resolve(msg);
        },
        (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
      signal.addEventListener("abort", onAbort, { once: true });
      if (!this.#publish(subject, payload, headers, token, reject)) signal.removeEventListener("abort", onAbort);
    });
  }

  /** Sends the request; when it cannot go out, forgets its reply and rejects. Returns whether it went out. */
  #publish(subject: string, payload: Uint8Array, headers: MsgHdrs, token: string, reject: (error: MeshError) => void): boolean {
    try {
      this.#nc.publish(subject, payload, { reply: this.#inbox.replySubject(token), headers });
      return true;
    } catch (error) {
      this.#inbox.cancel(token);
      reject(new MeshError("UNAVAILABLE", "cannot publish the request", { cause: error, retryAfterMs: 250 }));
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    this.#stopStatuses();
    this.#inbox.close();
  }
}

type TypedClient<C extends ActorContract> = {
  [K in keyof C["requests"]]: (input: z.input<C["requests"][K]["input"]>, options?: CallOptions) => Promise<z.output<C["requests"][K]["output"]>>;
};

/** A client typed by an actor's contract: `actorClient(mesh, tenantsContract).get({...}, { tenant })`. */
export function actorClient<C extends ActorContract>(client: MeshClient, contract: C): TypedClient<C> {
  const typed: Record<string, unknown> = {};
  for (const [name, request] of Object.entries(contract.requests)) {
    typed[name] = (input: unknown, options?: CallOptions) => client.request(request, input, options);
  }
  return typed as TypedClient<C>;
}
