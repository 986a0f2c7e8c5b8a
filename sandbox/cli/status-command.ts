import type { NatsConnection } from "@nats-io/nats-core";
import { formatMs, textTable } from "../demo/text-table.ts";
import type { ActorView } from "../supervisor/replica-supervisor.ts";
import { REPLICAS_SUBJECT } from "../supervisor/sandbox-env.ts";
import type { CliIo } from "./cli-io.ts";
import { withMesh } from "./connection.ts";
import { endpointTotals, gatherConsumerLag, gatherInstanceStats, type ConsumerLag, type InstanceStats } from "./inspect.ts";

export interface MeshStatus {
  readonly url: string;
  readonly actors: ReadonlyArray<{ actor: string; version: string; instances: InstanceStats[] }>;
  readonly consumers: readonly ConsumerLag[];
  /** The sandbox supervisor's view, when a sandbox runs on this NATS. */
  readonly sandbox: readonly ActorView[] | undefined;
}

async function sandboxView(nc: NatsConnection): Promise<ActorView[] | undefined> {
  try {
    return (await nc.request(REPLICAS_SUBJECT, undefined, { timeout: 500 })).json<ActorView[]>();
  } catch {
    return undefined;
  }
}

export async function gatherStatus(nc: NatsConnection, url: string, windowMs: number): Promise<MeshStatus> {
  const [instances, consumers, sandbox] = await Promise.all([
    gatherInstanceStats(nc, windowMs),
    gatherConsumerLag(nc).catch(() => []),
    sandboxView(nc),
  ]);
  const byActor = new Map<string, InstanceStats[]>();
  for (const instance of instances) byActor.set(instance.name, [...(byActor.get(instance.name) ?? []), instance]);
  const actors = [...byActor.entries()].map(([actor, list]) => ({ actor, version: list[0]?.version ?? "", instances: list }));
  return { url, actors, consumers, sandbox };
}

function uptime(started: string | undefined): string {
  if (!started) return "";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(started)) / 1000));
  return seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds / 3600)}h`;
}

export function renderStatus(status: MeshStatus): string[] {
  const lines = [`mesh at ${status.url}`, ""];
  if (status.actors.length === 0) lines.push("no actor answered $SRV.STATS (is anything running? start a sandbox with make sandbox)");
  for (const { actor, version, instances } of status.actors) {
    const supervised = status.sandbox?.find((v) => v.actor === actor);
    lines.push(`${actor} ${version}: ${instances.length} instance${instances.length === 1 ? "" : "s"}${supervised ? ` (sandbox wants ${supervised.desired})` : ""}`);
    lines.push(`  instances: ${instances.map((i) => `${i.id} (up ${uptime(i.started)}, ${i.endpoints.reduce((s, e) => s + e.num_requests, 0)} requests)`).join(", ")}`);
    const rows = endpointTotals(instances).map((e) => [e.subject, String(e.requests), String(e.errors), formatMs(e.averageMs)]);
    lines.push(...textTable(["endpoint", "requests", "errors", "avg latency"], rows).map((l) => `  ${l}`), "");
  }
  for (const view of status.sandbox ?? []) {
    if (!status.actors.some((a) => a.actor === view.actor)) lines.push(`${view.actor}: no instance answers (sandbox wants ${view.desired})`, "");
  }
  if (status.consumers.length === 0) lines.push("durable consumers: none");
  else {
    lines.push("durable consumers (JetStream)");
    lines.push(...textTable(["stream", "consumer", "pending", "ack pending", "redelivered"], status.consumers.map((c) =>
      [c.stream, c.consumer, String(c.pending), String(c.ackPending), String(c.redelivered)])).map((l) => `  ${l}`));
  }
  return lines;
}

/** `mesh status`: every actor with its instances and endpoint stats, and every durable consumer's lag. */
export async function statusCommand(io: CliIo, options: { server?: string; json?: boolean; wait: number }): Promise<number> {
  return withMesh(io, options.server, async (nc, target) => {
    const status = await gatherStatus(nc, target.url, options.wait);
    io.out(options.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status).join("\n")}\n`);
    return 0;
  });
}
