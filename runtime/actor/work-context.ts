import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { z } from "zod";
import type { ActorContract, EventContract, RequestContract } from "../../protocol/contract.ts";
import type { CallOptions, MeshClient } from "../client/mesh-client.ts";
import type { CallerIdentity } from "../auth/caller-identity.ts";
import { MeshError } from "../errors.ts";
import type { RequestMeta } from "../request/request-headers.ts";
import type { ReplyStreamSender } from "../request/reply-stream.ts";
import type { ActorStore, AiUsage, ContextCallOptions, ContextClient, ContextMeshClient, WorkContext } from "../types.ts";

/** Calls made through `context.mesh` give each attempt this share of the time left, and at least MIN_ATTEMPT_MS. */
const ATTEMPTS_PER_DEADLINE = 3;
const MIN_ATTEMPT_MS = 500;

/** What every piece of work of one actor process shares. */
export interface ActorEnvironment {
  readonly actor: string;
  readonly instance: string;
  readonly log: Logger;
  readonly store: ActorStore;
  readonly client: MeshClient;
  publishEvent(event: EventContract, payload: unknown, meta: { eventId?: string; tenant: string; traceparent: string }): Promise<void>;
  recordAiUsage(tenant: string, usage: AiUsage): void;
}

/**
 * The context of one request or event. The logger, the AbortSignal and its deadline timer
 * are created only if the handler asks for them, which keeps cheap handlers cheap.
 */
export class Work implements WorkContext {
  readonly tenant: string;
  readonly idempotencyKey: string | undefined;
  readonly deadline: number;
  readonly traceparent: string;
  readonly traceId: string;
  readonly callerService: string;
  readonly caller: CallerIdentity;
  readonly store: ActorStore;
  #environment: ActorEnvironment;
  #subject: string;
  #log: Logger | undefined;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #mesh: ContextMeshClient | undefined;
  #openStream: ((deadlineSignal: AbortSignal) => ReplyStreamSender) | undefined;
  #stream: ReplyStreamSender | undefined;

  constructor(environment: ActorEnvironment, meta: RequestMeta, subject: string, openStream?: (deadlineSignal: AbortSignal) => ReplyStreamSender) {
    this.#openStream = openStream;
    this.#environment = environment;
    this.#subject = subject;
    this.tenant = meta.tenant;
    this.idempotencyKey = meta.idempotencyKey;
    this.deadline = meta.deadline;
    this.traceparent = meta.traceparent;
    this.traceId = meta.traceId;
    this.callerService = meta.callerService;
    this.caller = meta.caller;
    this.store = environment.store;
  }

  get log(): Logger {
    this.#log ??= this.#environment.log.child({ subject: this.#subject, tenant: this.tenant, traceId: this.traceId });
    return this.#log;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const remaining = this.deadline - Date.now();
      if (remaining <= 0) controller.abort(new MeshError("TIMEOUT", "deadline exceeded"));
      else this.#timer = setTimeout(() => controller.abort(new MeshError("TIMEOUT", "deadline exceeded")), remaining);
    }
    return this.#controller.signal;
  }

  get mesh(): ContextMeshClient {
    this.#mesh ??= {
      client: this.#environment.client,
      request: (contract, input, options) => this.#request(contract, input, options),
    };
    return this.#mesh;
  }

  call<C extends ActorContract>(contract: C): ContextClient<C> {
    const client: Record<string, unknown> = {};
    for (const [verb, request] of Object.entries(contract.requests)) {
      client[verb] = (input: unknown, options?: ContextCallOptions) => this.#request(request, input, options);
    }
    return client as ContextClient<C>;
  }

  #request<R extends RequestContract>(contract: R, input: z.input<R["input"]>, options: ContextCallOptions = {}): Promise<z.output<R["output"]>> {
    return this.#environment.client.request(contract, input, this.callOptions(contract, options));
  }

  /** What a call made inside this work sends: this work's tenant, trace and remaining deadline. */
  callOptions(contract: RequestContract, options: ContextCallOptions = {}): CallOptions {
    const deadline = options.timeoutMs === undefined ? this.deadline : Math.min(this.deadline, Date.now() + options.timeoutMs);
    return {
      tenant: this.tenant,
      deadline,
      traceparent: this.traceparent,
      // A replica that dies with the request gets no answer: later attempts go elsewhere, and a
      // mutating call carries a key so that a lost attempt that did run is not run again.
      idempotencyKey: options.idempotencyKey ?? (contract.mutating ? randomUUID() : undefined),
      attemptTimeoutMs: Math.max(MIN_ATTEMPT_MS, Math.floor((deadline - Date.now()) / ATTEMPTS_PER_DEADLINE)),
      maxAttempts: options.maxAttempts,
      signal: this.#controller?.signal,
    };
  }

  /** Opened on first use, for requests of streaming contracts only. */
  get stream(): ReplyStreamSender | undefined {
    if (!this.#stream && this.#openStream) this.#stream = this.#openStream(this.signal);
    return this.#stream;
  }

  /** Chunks the handler streamed (0 when it streamed none). */
  get chunksSent(): number {
    return this.#stream?.sent ?? 0;
  }

  recordAiUsage(usage: AiUsage): void {
    this.#environment.recordAiUsage(this.tenant, usage);
  }

  publish<E extends EventContract>(event: E, payload: z.input<E["schema"]>, options: { eventId?: string } = {}): Promise<void> {
    return this.#environment.publishEvent(event, payload, { eventId: options.eventId, tenant: this.tenant, traceparent: this.traceparent });
  }

  /** Aborts the work's signal now (a drain that can wait no longer). */
  abort(reason: MeshError): void {
    if (!this.#controller) this.#controller = new AbortController();
    this.#controller.abort(reason);
  }

  /** Clears the deadline timer once the work is done. */
  finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#stream?.close();
  }

}

/** The context of one event delivery: a Work that also names the event (`consumeEvent` handlers). */
export class EventWork extends Work {
  constructor(environment: ActorEnvironment, meta: RequestMeta, subject: string, readonly eventId: string, readonly deliveryCount: number) {
    super(environment, meta, subject);
  }
}
