import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HealthSource {
  /** Process is alive and not wedged. */
  healthy(): boolean;
  /** Connected to NATS and the database and taking work. */
  ready(): Promise<boolean>;
}

/** `/metrics` (Prometheus text), `/healthz` and `/readyz` on one small HTTP server. */
export async function startHttpEndpoint(port: number, registry: Registry, health: HealthSource, host = "127.0.0.1"): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: string, type = "text/plain") => {
      response.writeHead(status, { "content-type": type }).end(body);
    };
    void (async () => {
      switch (request.url) {
        case "/metrics":
          return reply(200, await registry.metrics(), registry.contentType);
        case "/healthz":
          return health.healthy() ? reply(200, "ok\n") : reply(503, "unhealthy\n");
        case "/readyz":
          return (await health.ready()) ? reply(200, "ready\n") : reply(503, "not ready\n");
        default:
          return reply(404, "not found\n");
      }
    })().catch(() => reply(500, "error\n"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
