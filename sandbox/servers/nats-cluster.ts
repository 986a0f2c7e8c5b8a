/**
 * A NATS cluster on this machine: `size` nats-server processes with JetStream, routed to each
 * other, every one configured with the mesh's JWT authentication (the credentials' auth config
 * plus a cluster block). Streams and consumers created with `num_replicas: size` are replicated
 * by Raft across the nodes, so a node can die without losing an event.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import type { IssuedCredentials } from "../creds/issue-credentials.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";
import { startNatsNode, type RestartableNats } from "./nats-server.ts";
import { freePort } from "./supervised-process.ts";

export interface NatsClusterNode extends RestartableNats {
  /** `server_name`, as JetStream names stream leaders and peers. */
  readonly name: string;
}

export interface NatsCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's URL, comma-separated: what NATS_URL is set to so clients fail over. */
  readonly url: string;
  readonly urls: readonly string[];
  readonly credentials: IssuedCredentials;
  /** The node whose name is `name`. */
  node(name: string): NatsClusterNode;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  readonly credentials: IssuedCredentials;
  readonly size?: number;
  readonly readyTimeoutMs?: number;
}

const CLUSTER_NAME = "meshwork";

export async function startNatsCluster(workDir: string, { credentials, size = 3, readyTimeoutMs = 60_000 }: NatsClusterOptions): Promise<NatsCluster> {
  const root = join(workDir, `nats-cluster-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(root, { recursive: true });
  const auth = await readFile(credentials.serverAuthFile, "utf8");
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort(), monitor: await freePort() })));
  const routes = ports.map((p) => `"nats-route://127.0.0.1:${p.cluster}"`).join(", ");
  const operatorCreds = credentials.credsFiles[OPERATOR_USER]!;
  const nodes = await Promise.all(ports.map(async (p, index) => {
    const name = `${CLUSTER_NAME}-${index + 1}`;
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const configFile = join(dir, "nats-server.conf");
    await writeFile(configFile, [
      auth,
      `server_name: "${name}"`,
      `jetstream { store_dir: "${join(dir, "jetstream")}" }`,
      `cluster { name: "${CLUSTER_NAME}", host: "127.0.0.1", port: ${p.cluster}, routes: [${routes}] }`,
      "",
    ].join("\n"));
    // Ready when JetStream answers: that needs a meta leader, so a quorum of the cluster.
    const node = await startNatsNode({
      dir, port: p.client, monitorPort: p.monitor, credentials, readyTimeoutMs, args: ["-c", configFile],
      ready: (url) => jetStreamReady(url, operatorCreds),
    });
    return Object.assign(node, { name });
  }));
  const urls = nodes.map((node) => node.url);
  return {
    nodes, urls, url: urls.join(","), credentials,
    node(name) {
      const found = nodes.find((node) => node.name === name);
      if (!found) throw new Error(`no node ${name} in the cluster (${nodes.map((n) => n.name).join(", ")})`);
      return found;
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}

async function jetStreamReady(url: string, credsFile: string): Promise<boolean> {
  const nc = await connect({ servers: url, ...natsAuthFromCreds(credsFile), reconnect: false, timeout: 1000 });
  try {
    await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}
