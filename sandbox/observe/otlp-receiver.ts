/**
 * A small OTLP/HTTP trace receiver (JSON encoding, what @opentelemetry/exporter-trace-otlp-http
 * sends): keeps the most recent spans in memory, grouped by trace. The sandbox points its
 * replicas at it (OTEL_EXPORTER_OTLP_ENDPOINT) so `mesh trace` and the web view can show a trace;
 * tests use it as the real receiver the exporter talks to.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly service: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: number;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
}

interface OtlpValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number;
  startTimeUnixNano: string | number; endTimeUnixNano: string | number;
  attributes?: { key: string; value: OtlpValue }[]; status?: { code?: number }; links?: { traceId: string; spanId: string }[];
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

function valueOf(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue ?? "";
}

const attributesOf = (list: { key: string; value: OtlpValue }[] = []) => Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));
const nanosToMs = (nanos: string | number) => Number(BigInt(nanos) / 1000n) / 1000;

export class SpanStore extends EventEmitter<{ spans: [ReceivedSpan[]] }> {
  readonly #traces = new Map<string, ReceivedSpan[]>();
  readonly #maxTraces: number;

  constructor(maxTraces = 2000) {
    super();
    this.#maxTraces = maxTraces;
  }

  /** Adds the spans of one OTLP export request; throws on a body that is not one. */
  add(request: OtlpRequest): ReceivedSpan[] {
    if (!request || typeof request !== "object" || !Array.isArray(request.resourceSpans)) throw new Error("not an OTLP trace export request (resourceSpans missing)");
    const added: ReceivedSpan[] = [];
    for (const resourceSpans of request.resourceSpans) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "");
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const startMs = nanosToMs(span.startTimeUnixNano);
          added.push({
            traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? "", name: span.name, kind: span.kind ?? 0, service,
            startMs, durationMs: nanosToMs(span.endTimeUnixNano) - startMs, attributes: attributesOf(span.attributes),
            status: span.status?.code ?? 0, links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
          });
        }
      }
    }
    for (const span of added) {
      const trace = this.#traces.get(span.traceId);
      if (trace) trace.push(span);
      else this.#traces.set(span.traceId, [span]);
    }
    // Oldest traces go first (a Map keeps insertion order).
    while (this.#traces.size > this.#maxTraces) this.#traces.delete(this.#traces.keys().next().value!);
    if (added.length > 0) this.emit("spans", added);
    return added;
  }

  /** One trace's spans, in start order; empty when unknown. */
  trace(traceId: string): ReceivedSpan[] {
    return [...(this.#traces.get(traceId) ?? [])].sort((a, b) => a.startMs - b.startMs);
  }

  /** Error replies by subject and code, from the server spans of the traces kept. */
  errorCounts(): Record<string, Record<string, number>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const trace of this.#traces.values()) {
      for (const span of trace) {
        const code = span.attributes["meshwork.error_code"];
        const subject = span.attributes["messaging.destination.name"];
        if (span.kind !== 2 || typeof code !== "string" || typeof subject !== "string") continue;
        const bySubject = (counts[subject] ??= {});
        bySubject[code] = (bySubject[code] ?? 0) + 1;
      }
    }
    return counts;
  }

  /** The most recent traces' ids, newest first. */
  recentTraceIds(limit = 20): string[] {
    return [...this.#traces.keys()].slice(-limit).reverse();
  }
}

/** Handles `POST /v1/traces` for a node:http server; answers 415 to protobuf (only JSON is accepted), 400 to a bad body. */
export function handleOtlpExport(store: SpanStore, request: IncomingMessage, response: ServerResponse): void {
  if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
    response.writeHead(415, { "content-type": "text/plain" }).end("OTLP/HTTP JSON only (application/json)\n");
    request.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  request.on("end", () => {
    if (size > MAX_BODY_BYTES) return void response.writeHead(413).end();
    try {
      store.add(JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpRequest);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    } catch (error) {
      response.writeHead(400, { "content-type": "text/plain" }).end(`${error instanceof Error ? error.message : "bad request"}\n`);
    }
  });
}
