import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { GatewayConfig } from "./config.ts";
import type { EdgeEnv } from "./edge-context.ts";

export interface RunningHttpServer {
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes every connection. */
  close(graceMs: number): Promise<void>;
}

function listen(app: Hono<EdgeEnv>, port: number, hostname: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port, hostname }, () => {
      started.off("error", reject);
      resolve(started as Server);
    });
    started.once("error", reject);
  });
}

/** Listens with the slow-client bounds of the configuration (headers, whole request, keep-alive). */
export async function startHttpServer(app: Hono<EdgeEnv>, config: GatewayConfig): Promise<RunningHttpServer> {
  const last = config.portLast !== undefined && config.port > 0 ? Math.max(config.port, config.portLast) : config.port;
  let server: Server | undefined;
  for (let port = config.port; !server; port++) {
    try {
      server = await listen(app, port, config.host);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || port >= last) throw error;
    }
  }
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  return {
    port: (server.address() as AddressInfo).port,
    close(graceMs) {
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Idle keep-alive sockets would hold the close; busy ones close after their response.
        server.closeIdleConnections();
      });
    },
  };
}
