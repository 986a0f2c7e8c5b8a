import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface GatewayBalancer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * One local port in front of the gateway replicas (Node 20 cannot share a listening port
 * between processes): each TCP connection goes to the next replica port, in turn, that accepts
 * it; a draining or stopped replica refuses and the next one is tried. Replicas bind the first
 * free port of their range, so the balancer tries the whole range.
 */
export async function startGatewayBalancer(options: { port: number; host: string; replicaPorts: readonly number[] }): Promise<GatewayBalancer> {
  let next = 0;
  const sockets = new Set<Socket>();
  const forward = (client: Socket, attempt: number): void => {
    if (attempt >= options.replicaPorts.length) return void client.destroy();
    const port = options.replicaPorts[(next++) % options.replicaPorts.length]!;
    const upstream = createConnection({ port, host: "127.0.0.1" });
    let connected = false;
    upstream.once("error", () => {
      if (!connected) forward(client, attempt + 1);
      else client.destroy();
    });
    upstream.once("connect", () => {
      connected = true;
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.resume();
    });
  };
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    forward(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}
