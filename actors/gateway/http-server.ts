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

function listen(app: Hono<EdgeEnv>, port: number, config: GatewayConfig): Promise<Server> {
  const serverOptions = {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // How often Node looks for connections past those bounds (its default, 30 s, would stretch them).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 2))),
  };
  return new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port, hostname: config.host, serverOptions }, () => {
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
      server = await listen(app, port, config);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || port >= last) throw error;
    }
  }
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
