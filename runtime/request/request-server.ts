import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import pLimit from "p-limit";
import type { RequestContract } from "../../protocol/contract.ts";
import { MAX_PAYLOAD_BYTES } from "../../protocol/headers.ts";
import { MeshError, toMeshError } from "../errors.ts";
import type { ActorMetrics, PendingCount } from "../observability/metrics.ts";
import type { ActorDefinition, RequestHandler } from "../types.ts";
import { Work, type ActorEnvironment } from "../actor/work-context.ts";
import { EndpointStats } from "./endpoint-stats.ts";
import { encodeData, encodeError } from "./reply-codec.ts";
import type { RequestMeta } from "./request-headers.ts";
import { readRequestMetaOf } from "./request-header-text.ts";
import { assertMayActFor } from "../auth/caller-identity.ts";
import { classifyThrown } from "../pipeline/classify.ts";
import { decodePayload, describeIssues } from "../pipeline/decode.ts";
import { parseStreamWindow, ReplyStreamSender } from "./reply-stream.ts";
import { STREAM_HEADERS } from "../../protocol/llm.ts";
import { headers as natsHeaders, Match } from "@nats-io/nats-core";
import type { IdempotentRunner } from "./idempotent-runner.ts";
import { traceServerRequest, tracingEnabled } from "../observability/tracing.ts";
import { FreeSlotSubscriptions } from "./free-slot-subscriptions.ts";

/** A request without a body is a request with no input fields. */
const EMPTY_INPUT = {};
const EXPIRED_ON_ARRIVAL = new MeshError("TIMEOUT", "the request's deadline had passed when it arrived");
const EXPIRED_IN_QUEUE = new MeshError("TIMEOUT", "the request's deadline passed while it waited for a free slot");
const DRAIN_ABORT = new MeshError("UNAVAILABLE", "the replica is stopping", { retryAfterMs: 100 });
const DRAIN_POLL_MS = 20;

export interface RequestServer {
  readonly endpoints: readonly EndpointStats[];
  /**
   * Stops taking requests and lets in-flight ones finish for up to `graceMs`; then aborts the
   * signals of those still running and returns without waiting for handlers that ignore it.
   */
  drain(graceMs: number): Promise<void>;
}

interface Endpoint {
  readonly name: string;
  readonly contract: RequestContract;
  readonly handler: RequestHandler<RequestContract>;
  readonly stats: EndpointStats;
  /** Successes are counted outside prom-client until read (no label hashing per request). */
  readonly succeeded: PendingCount;
  readonly latency: { observe(seconds: number): void };
}

/** Runs the handler and checks its reply against the output schema (a bad reply is our bug: INTERNAL). */
async function runHandler(endpoint: Endpoint, input: unknown, work: Work): Promise<unknown> {
  const data = await endpoint.handler(input, work);
  const output = endpoint.contract.output.safeParse(data);
  if (!output.success) {
    work.log.error({ issues: describeIssues(output.error.issues) }, "handler returned an invalid reply");
    throw new MeshError("INTERNAL", "internal error");
  }
  return output.data;
}

/**
 * Subscribes every handler of the actor with queue group = actor name and callback
 * delivery. In-flight work is bounded with p-limit (concurrency = maxInFlight, plus a
 * queue as long again); past that a request is answered OVERLOADED at once. While requests
 * have to queue, free slots draw more of the group's requests (free-slot-subscriptions.ts).
 */
export function startRequestServer(options: {
  nc: NatsConnection;
  definition: ActorDefinition;
  environment: ActorEnvironment;
  metrics: ActorMetrics;
  idempotency: IdempotentRunner;
  maxInFlight: number;
}): RequestServer {
  const { nc, definition, environment, metrics, idempotency } = options;
  const limits = definition.limits ?? {};
  const maxInFlight = options.maxInFlight;
  const maxPayload = limits.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const defaultTimeoutMs = limits.defaultTimeoutMs ?? 5000;
  const limit = pLimit(maxInFlight);
  const queueBound = maxInFlight * 2;
  const subscriptions: Subscription[] = [];
  const endpoints: Endpoint[] = [];
  const active = new Set<Work>();
  metrics.readInFlightFrom(() => limit.activeCount + limit.pendingCount);

  const handlers = definition.handlers as Record<string, RequestHandler<RequestContract>>;
  for (const [name, contract] of Object.entries(definition.contract.requests)) {
    const handler = handlers[name];
    if (!handler) throw new Error(`actor ${definition.name} has no handler for request ${name}`);
    endpoints.push({
      name, contract, handler,
      stats: new EndpointStats(name, contract.subject, definition.name),
      succeeded: metrics.successes(contract.subject),
      latency: metrics.latency.labels({ subject: contract.subject }),
    });
  }

  /** Answers the request; returns the error code it answered with (for the trace), if any. */
  function reply(msg: Msg, endpoint: Endpoint, started: number, deadline: number, result: { data: unknown } | { error: MeshError }, chunksSent = 0): string | undefined {
    const durationMs = performance.now() - started;
    if ("error" in result) {
      endpoint.stats.record(durationMs, result.error.code);
      metrics.requests.inc({ subject: endpoint.contract.subject, code: result.error.code });
    } else {
      endpoint.stats.record(durationMs, undefined);
      endpoint.succeeded.inc();
    }
    endpoint.latency.observe(durationMs / 1000);
    const code = "error" in result ? result.error.code : undefined;
    if (Date.now() >= deadline) return code; // the caller has given up: no reply at or after the deadline
    if ("error" in result) {
      const { payload, headers } = encodeError(result.error);
      if (endpoint.contract.streaming) headers.set(STREAM_HEADERS.chunks, String(chunksSent));
      msg.respond(payload, { headers });
    } else if (endpoint.contract.streaming) {
      const headers = natsHeaders();
      headers.set(STREAM_HEADERS.chunks, String(chunksSent));
      msg.respond(encodeData(result.data), { headers });
    } else {
      msg.respond(encodeData(result.data));
    }
    return code;
  }

  async function execute(msg: Msg, endpoint: Endpoint, meta: RequestMeta, started: number): Promise<string | undefined> {
    // Queued behind the in-flight bound past its deadline: the caller has stopped waiting, so the work is not started.
    if (Date.now() >= meta.deadline) {
      const code = reply(msg, endpoint, started, meta.deadline, { error: EXPIRED_IN_QUEUE });
      freeSlots.requestFinished(slotsFreeAfterThis());
      return code;
    }
    const replyTo = msg.reply;
    const work = new Work(environment, meta, endpoint.contract.subject, endpoint.contract.streaming && replyTo
      ? (deadlineSignal) => new ReplyStreamSender({ nc, replyTo, window: parseStreamWindow(msg.headers?.get(STREAM_HEADERS.window, Match.IgnoreCase) ?? ""), deadlineSignal })
      : undefined);
    active.add(work);
    try {
      const decoded = decodePayload(endpoint.contract.input, msg.data, EMPTY_INPUT);
      if (!decoded.ok) {
        throw new MeshError("BAD_REQUEST", decoded.stage === "json" ? "payload is not valid JSON" : `invalid request: ${decoded.reason}`);
      }
      const data = endpoint.contract.mutating && meta.idempotencyKey
        ? await idempotency.run({ work, subject: endpoint.contract.subject, key: meta.idempotencyKey, body: decoded.body, run: () => runHandler(endpoint, decoded.value, work) })
        : await runHandler(endpoint, decoded.value, work);
      return reply(msg, endpoint, started, meta.deadline, { data }, work.chunksSent);
    } catch (thrown) {
      const failure = classifyThrown(thrown);
      // The detail of an internal failure (a store guard, a publisher, a bug) is for the log only.
      if (failure.error.code === "INTERNAL") work.log.error({ err: failure.error.cause ?? failure.error, detail: failure.error.message }, "request failed");
      return reply(msg, endpoint, started, meta.deadline, { error: failure.reply }, work.chunksSent);
    } finally {
      active.delete(work);
      work.finish();
      freeSlots.requestFinished(slotsFreeAfterThis());
    }
  }

  /** execute() inside a server span whose traceparent the work (and its calls and events) carries on. */
  function tracedExecute(msg: Msg, endpoint: Endpoint, meta: RequestMeta, started: number): Promise<string | undefined> {
    return traceServerRequest(definition.name, endpoint.contract.subject, meta, (traceparent) =>
      execute(msg, endpoint, { ...meta, traceparent, traceId: traceparent.slice(3, 35) }, started));
  }
  // Decided once: with tracing off the request path is the untraced one.
  const run = tracingEnabled() ? tracedExecute : execute;

  function onMessage(endpoint: Endpoint, msg: Msg): void {
    const started = performance.now();
    if (!msg.reply) return;
    const now = Date.now();
    let meta: RequestMeta;
    try {
      if (msg.data.length > maxPayload) throw new MeshError("BAD_REQUEST", `payload larger than ${maxPayload} bytes`);
      meta = readRequestMetaOf(msg, now, defaultTimeoutMs);
      assertMayActFor(meta.caller, meta.tenant);
      if (!meta.tenant && !endpoint.contract.tenantless) throw new MeshError("BAD_REQUEST", "missing Mw-Tenant header");
      if (limit.activeCount + limit.pendingCount >= queueBound) {
        throw new MeshError("OVERLOADED", "replica at its in-flight bound", { retryAfterMs: 50 });
      }
    } catch (error) {
      const refusal = toMeshError(error);
      if (refusal.code === "FORBIDDEN") environment.log.warn({ subject: endpoint.contract.subject, reason: refusal.message }, "request refused: caller identity");
      return void reply(msg, endpoint, started, now + defaultTimeoutMs, { error: refusal });
    }
    // Expired on arrival (a caller's clock ahead of ours, or a deadline spent in transit): say so at once.
    if (meta.deadline <= now) return void reply(msg, endpoint, started, now + defaultTimeoutMs, { error: EXPIRED_ON_ARRIVAL });
    if (limit.activeCount >= maxInFlight) freeSlots.requestQueued();
    void limit(run, msg, endpoint, meta, started);
  }

  /** Inside execute(): p-limit still counts this request as active, and a queued one takes its slot next. */
  const slotsFreeAfterThis = () => maxInFlight - (limit.activeCount - 1) - limit.pendingCount;
  const freeSlots = new FreeSlotSubscriptions({
    nc, queue: definition.name, log: environment.log,
    endpoints: endpoints.map((endpoint) => ({ subject: endpoint.contract.subject, onMessage: (msg: Msg) => onMessage(endpoint, msg) })),
  });

  for (const endpoint of endpoints) {
    subscriptions.push(nc.subscribe(endpoint.contract.subject, {
      queue: definition.name,
      callback: (error, msg) => {
        if (error) environment.log.error({ err: error, subject: endpoint.contract.subject }, "subscription error");
        else onMessage(endpoint, msg);
      },
    }));
  }

  return {
    endpoints: endpoints.map((e) => e.stats),
    async drain(graceMs) {
      await Promise.allSettled([...subscriptions.map((s) => s.drain()), freeSlots.drain()]);
      const giveUpAt = Date.now() + graceMs;
      // Polled, not signalled: p-limit updates its counts only after a task's promise settles.
      while (limit.activeCount + limit.pendingCount > 0 && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      if (active.size === 0) return;
      environment.log.warn({ running: active.size, graceMs }, "drain grace over: aborting the handlers still running");
      for (const work of active) work.abort(DRAIN_ABORT);
    },
  };
}
