/**
 * The sandbox's web view: one local HTTP server with the page (`/`), the current sample
 * (`/api/state`), live samples as server-sent events (`/api/stream`), and the OTLP/HTTP trace
 * receiver the replicas export to (`/v1/traces`), whose traces `/api/traces/<id>` and
 * `mesh trace` show.
 */
import { createServer, type ServerResponse } from "node:http";
import type { NatsConnection } from "@nats-io/nats-core";
import { gatherInstanceStats } from "../cli/inspect.ts";
import type { DashboardState } from "../demo/dashboard.ts";
import { recentDeadLetters, type DeadLetterView } from "./dead-letters.ts";
import { EndpointRates } from "./endpoint-rates.ts";
import { handleOtlpExport, SpanStore } from "./otlp-receiver.ts";
import { traceAsText } from "./trace-text.ts";
import { WEB_PAGE } from "./web-page.ts";
import { WebModel, type WebSample } from "./web-model.ts";

export interface WebView {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly spans: SpanStore;
  /** Starts sampling the mesh once the dashboard state exists (after the demo started). */
  attach(state: () => DashboardState): void;
  close(): Promise<void>;
}

const DEAD_LETTER_EVERY = 5;
const TRACE_ID = /^[0-9a-f]{32}$/;

export async function startWebView(options: { nc: NatsConnection; port?: number; host?: string; intervalMs?: number }): Promise<WebView> {
  const spans = new SpanStore();
  const model = new WebModel();
  const rates = new EndpointRates();
  const clients = new Set<ServerResponse>();
  let latest: WebSample | undefined;
  let deadLetters: DeadLetterView[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ticks = 0;

  const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "POST" && url.pathname === "/v1/traces") return handleOtlpExport(spans, request, response);
    if (request.method !== "GET") return void response.writeHead(405).end();
    if (url.pathname === "/") return void response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(WEB_PAGE);
    if (url.pathname === "/api/state") return latest ? json(response, 200, latest) : json(response, 503, { error: "the sandbox is still starting" });
    if (url.pathname === "/api/stream") {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      if (latest) response.write(`data: ${JSON.stringify(latest)}\n\n`);
      clients.add(response);
      request.on("close", () => clients.delete(response));
      return;
    }
    if (url.pathname === "/api/traces") return json(response, 200, spans.recentTraceIds(50));
    if (url.pathname === "/api/errors") return json(response, 200, spans.errorCounts());
    const trace = /^\/api\/traces\/([^/]+)$/.exec(url.pathname);
    if (trace) {
      const id = trace[1]!;
      if (!TRACE_ID.test(id)) return json(response, 400, { error: "a trace id is 32 lower-case hex digits" });
      const found = spans.trace(id);
      if (found.length === 0) return json(response, 404, { error: `no trace ${id} (the sandbox keeps the most recent 2,000 traces)` });
      return url.searchParams.get("format") === "text" ? void response.writeHead(200, { "content-type": "text/plain" }).end(traceAsText(found)) : json(response, 200, found);
    }
    return void response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as { port: number };

  async function sample(state: () => DashboardState): Promise<void> {
    const now = Date.now();
    const stats = await gatherInstanceStats(options.nc, 500);
    if (ticks++ % DEAD_LETTER_EVERY === 0) deadLetters = await recentDeadLetters(options.nc).catch(() => deadLetters);
    latest = model.sample(state(), rates.update(stats, now), deadLetters, spans.recentTraceIds(10), now);
    const frame = `data: ${JSON.stringify(latest)}\n\n`;
    for (const client of clients) client.write(frame);
  }

  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    spans,
    attach(state) {
      let running: Promise<void> = sample(state).catch(() => {});
      timer = setInterval(() => {
        running = running.then(() => sample(state)).catch(() => {});
      }, options.intervalMs ?? 1000);
    },
    async close() {
      clearInterval(timer);
      for (const client of clients) client.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
