/**
 * OpenTelemetry spans for requests (client and server), event publish and consume, store calls
 * and provider calls, exported over OTLP/HTTP when an endpoint is configured. Off by default,
 * and then free: no OpenTelemetry module is loaded (the imports below are types only, the SDK is
 * imported by `startTracing`), and each hook's caller checks `tracingEnabled()` once, at start-up
 * where it can, so the request and event paths run unchanged. Attributes say who and what
 * (tenant, actor, subject, error code), never payloads or prompt text.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Attributes, Context, Link, Span, SpanKind, Tracer } from "@opentelemetry/api";
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from "mongodb";

type OtelApi = typeof import("@opentelemetry/api");

interface ActiveTracing {
  readonly api: OtelApi;
  readonly tracer: Tracer;
  readonly flush: () => Promise<void>;
  readonly shutdown: () => Promise<void>;
  /** The span context of the work running now, for spans whose callers pass no trace (store, provider). */
  readonly current: AsyncLocalStorage<Context>;
}

let active: ActiveTracing | undefined;
let starting: Promise<ActiveTracing> | undefined;

export interface TracingOptions {
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  /** `service.name` of this process's resource (one actor per process in production). */
  readonly serviceName: string;
  /** Milliseconds between batch exports. Default 1000. */
  readonly exportDelayMs?: number;
}

/** Whether spans are recorded in this process. */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

/** Loads the SDK and starts exporting; once per process (later calls get the first one's tracer). */
export async function startTracing(options: TracingOptions): Promise<{ flush(): Promise<void> }> {
  starting ??= (async () => {
    const [api, sdk, exporter, resources] = await Promise.all([
      import("@opentelemetry/api"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
    ]);
    const url = `${options.endpoint.replace(/\/+$/, "")}/v1/traces`;
    const provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ "service.name": options.serviceName }),
      sampler: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
      spanProcessors: [new sdk.BatchSpanProcessor(new exporter.OTLPTraceExporter({ url }), { scheduledDelayMillis: options.exportDelayMs ?? 1000 })],
    });
    active = {
      api,
      tracer: provider.getTracer("meshwork"),
      flush: () => provider.forceFlush(),
      shutdown: () => provider.shutdown(),
      current: new AsyncLocalStorage<Context>(),
    };
    return active;
  })();
  const tracing = await starting;
  return { flush: tracing.flush };
}

/** Exports what is buffered; resolves at once when tracing is off. */
export async function flushTracing(): Promise<void> {
  await active?.flush();
}

/** Flushes and stops exporting; spans are no longer recorded afterwards. */
export async function stopTracing(): Promise<void> {
  const tracing = active;
  active = undefined;
  starting = undefined;
  await tracing?.shutdown();
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function contextOf(tracing: ActiveTracing, traceparent: string | undefined): Context {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return tracing.current.getStore() ?? tracing.api.ROOT_CONTEXT;
  return tracing.api.trace.setSpanContext(tracing.api.ROOT_CONTEXT, { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true });
}

function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}

/** The code of a thrown MeshError (or INTERNAL), read without importing the runtime's error module. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Z_]+$/.test(code) ? code : "INTERNAL";
}

function finish(tracing: ActiveTracing, span: Span, code: string | undefined): void {
  if (code) {
    span.setAttribute("meshwork.error_code", code);
    span.setStatus({ code: tracing.api.SpanStatusCode.ERROR, message: code });
  }
  span.end();
}

interface SpanSpec {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parent: string | undefined;
  readonly attributes: Attributes;
  readonly links?: Link[];
}

/**
 * Runs `work` in a span; `work` gets the span's traceparent (to send on) and returns its result
 * and the error code it ended with, if any. A throw ends the span with the thrown code.
 */
async function inSpan<T>(tracing: ActiveTracing, spec: SpanSpec, work: (traceparent: string) => Promise<{ value: T; code?: string | undefined }>): Promise<T> {
  const parent = contextOf(tracing, spec.parent);
  const span = tracing.tracer.startSpan(spec.name, { kind: spec.kind, attributes: spec.attributes, ...(spec.links ? { links: spec.links } : {}) }, parent);
  const traceparent = traceparentOf(span);
  try {
    const { value, code } = await tracing.current.run(tracing.api.trace.setSpan(parent, span), () => work(traceparent));
    finish(tracing, span, code);
    return value;
  } catch (error) {
    finish(tracing, span, codeOf(error));
    throw error;
  }
}

const SPAN_KIND = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const satisfies Record<string, SpanKind>;

function tenantAttribute(tenant: string | undefined): Attributes {
  return tenant ? { "meshwork.tenant": tenant } : {};
}

/** A client span around one request (all its attempts); the request carries the span's traceparent. */
export function traceClientRequest<T>(subject: string, call: { traceparent?: string | undefined; tenant?: string | undefined; service: string }, send: (traceparent: string) => Promise<T>): Promise<T> {
  const tracing = active;
  if (!tracing) return send(call.traceparent ?? "");
  return inSpan(tracing, {
    name: `${subject} request`, kind: SPAN_KIND.client, parent: call.traceparent,
    attributes: { "messaging.system": "nats", "messaging.destination.name": subject, ...tenantAttribute(call.tenant), ...(call.service ? { "meshwork.actor": call.service } : {}) },
  }, async (traceparent) => ({ value: await send(traceparent) }));
}

/** A server span around one request's handling; `handle` returns the error code it replied with, if any. */
export function traceServerRequest(actor: string, subject: string, request: { traceparent: string; tenant: string }, handle: (traceparent: string) => Promise<string | undefined>): Promise<string | undefined> {
  const tracing = active;
  if (!tracing) return handle(request.traceparent);
  return inSpan(tracing, {
    name: `${subject} handle`, kind: SPAN_KIND.server, parent: request.traceparent,
    attributes: { "messaging.system": "nats", "messaging.destination.name": subject, "meshwork.actor": actor, ...tenantAttribute(request.tenant) },
  }, async (traceparent) => {
    const code = await handle(traceparent);
    return { value: code, code };
  });
}

/** A producer span around one event publish; the stored event carries the span's traceparent. */
export function tracePublish<T>(actor: string, subject: string, meta: { traceparent: string; tenant: string }, publish: (traceparent: string) => Promise<T>): Promise<T> {
  const tracing = active;
  if (!tracing) return publish(meta.traceparent);
  return inSpan(tracing, {
    name: `${subject} publish`, kind: SPAN_KIND.producer, parent: meta.traceparent,
    attributes: { "messaging.system": "nats", "messaging.operation.type": "send", "messaging.destination.name": subject, "meshwork.actor": actor, ...tenantAttribute(meta.tenant) },
  }, async (traceparent) => ({ value: await publish(traceparent) }));
}

/** A consumer span around one delivery, a child of and linked to the producer's span. */
export function traceConsume<T>(actor: string, durable: string, delivery: { subject: string; traceparent: string; tenant: string; eventId: string; deliveryCount: number }, process: (traceparent: string) => Promise<T>): Promise<T> {
  const tracing = active;
  if (!tracing) return process(delivery.traceparent);
  const producer = TRACEPARENT.test(delivery.traceparent) ? tracing.api.trace.getSpanContext(contextOf(tracing, delivery.traceparent)) : undefined;
  return inSpan(tracing, {
    name: `${delivery.subject} process`, kind: SPAN_KIND.consumer, parent: delivery.traceparent || undefined,
    attributes: {
      "messaging.system": "nats", "messaging.operation.type": "process", "messaging.destination.name": delivery.subject,
      "messaging.consumer.group.name": durable, "messaging.message.id": delivery.eventId, "meshwork.delivery_count": delivery.deliveryCount,
      "meshwork.actor": actor, ...tenantAttribute(delivery.tenant),
    },
    ...(producer ? { links: [{ context: producer }] } : {}),
  }, async (traceparent) => ({ value: await process(traceparent) }));
}

/** A client span around one call to an AI provider (model and provider host only; never the prompt). */
export function traceProviderCall<T>(attributes: { model: string; provider: string }, call: () => Promise<T>): Promise<T> {
  const tracing = active;
  if (!tracing) return call();
  return inSpan(tracing, {
    name: `provider ${attributes.model}`, kind: SPAN_KIND.client, parent: undefined,
    attributes: { "gen_ai.request.model": attributes.model, "server.address": attributes.provider },
  }, async () => ({ value: await call() }));
}

/** Spans for a MongoDB client's commands (command name, database, collection; never the filter or document). */
export function traceStoreCalls(client: MongoClient, actor: string): void {
  const tracing = active;
  if (!tracing) return;
  const open = new Map<number, Span>();
  // The setter exists on the driver's MongoClient (read when connections open); its typings omit it.
  (client as unknown as { monitorCommands: boolean }).monitorCommands = true;
  client.on("commandStarted", (event: CommandStartedEvent) => {
    const parent = tracing.current.getStore();
    // Only work of a request or an event: the driver's own heartbeats and background sweeps are not traced.
    if (!parent) return;
    const collection = event.command[event.commandName];
    open.set(event.requestId, tracing.tracer.startSpan(`store ${event.commandName}`, {
      kind: SPAN_KIND.client,
      attributes: { "db.system.name": "mongodb", "db.operation.name": event.commandName, "db.namespace": event.databaseName, "meshwork.actor": actor, ...(typeof collection === "string" ? { "db.collection.name": collection } : {}) },
    }, parent));
  });
  const end = (event: CommandSucceededEvent | CommandFailedEvent) => {
    const span = open.get(event.requestId);
    if (!span) return;
    open.delete(event.requestId);
    // A failed command is not yet a mesh error code (a duplicate key may be the expected outcome).
    if ("failure" in event) span.setStatus({ code: tracing.api.SpanStatusCode.ERROR, message: event.failure.name });
    span.end();
  };
  client.on("commandSucceeded", end);
  client.on("commandFailed", end);
}
