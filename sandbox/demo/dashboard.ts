import type { ActorView } from "../supervisor/replica-supervisor.ts";
import type { DemoTenant } from "./demo-tenants.ts";
import type { ActorMeasure, TenantMeasure } from "./measurements.ts";
import type { MeshObservation } from "./mesh-observer.ts";
import type { CapacityReading, UsageReading } from "./traffic.ts";
import { formatCounts, formatMs, formatUsd, textTable } from "./text-table.ts";

export interface TenantRow {
  readonly tenant: DemoTenant;
  readonly measure: TenantMeasure;
  readonly capacity: CapacityReading | undefined;
  readonly usage: UsageReading | undefined;
}

export interface DashboardState {
  readonly elapsedMs: number;
  readonly natsUrl: string;
  readonly envFile: string;
  readonly supervisor: readonly ActorView[];
  readonly observation: MeshObservation | undefined;
  readonly measures: readonly ActorMeasure[];
  readonly tenants: readonly TenantRow[];
  readonly recentEvents: readonly string[];
}

function replicasCell(view: ActorView): string {
  const ready = view.replicas.filter((r) => r.state === "ready").length;
  const restarts = view.replicas.reduce((sum, r) => sum + r.restarts, 0);
  return `${ready}/${view.desired}${restarts ? ` (${restarts} restarts)` : ""}`;
}

/** Spend as the ai-capacity actor counts it when it answers, else as the demo's replies add up. */
export function spendOf(row: TenantRow): number {
  return row.capacity?.spentUsd ?? row.measure.costUsd;
}

export function actorRows(state: DashboardState): string[][] {
  return state.supervisor.map((view) => {
    const measure = state.measures.find((m) => m.actor === view.actor);
    const server = state.observation?.actors.find((a) => a.actor === view.actor);
    return [
      view.actor,
      replicasCell(view),
      server ? server.requestsPerSecond.toFixed(1) : "-",
      String(measure?.calls ?? 0),
      formatCounts(measure?.errors ?? {}),
      formatMs(measure?.p50Ms),
      formatMs(measure?.p99Ms),
    ];
  });
}

export function tenantRows(state: DashboardState): string[][] {
  return state.tenants.map((row) => [
    row.tenant.id,
    row.tenant.role,
    String(row.measure.aiCalls),
    String(row.measure.cachedCalls),
    String(row.measure.tokens),
    `${formatUsd(spendOf(row))} / ${formatUsd(row.tenant.policy.budget.amountUsd)}`,
    formatCounts(row.measure.rejections),
  ]);
}

/** The full-screen view, redrawn in place on a terminal. */
export function renderDashboard(state: DashboardState): string[] {
  const lines = [
    `Meshwork sandbox  ${(state.elapsedMs / 1000).toFixed(0)}s  ${state.natsUrl}  (join: ${state.envFile}; Ctrl-C or q stops)`,
    "",
    ...textTable(["actor", "replicas", "req/s", "demo calls", "errors by code", "p50", "p99"], actorRows(state)),
    "",
    ...textTable(["tenant", "policy", "AI calls", "cached", "tokens", "spend / budget", "rejections by code"], tenantRows(state)),
    "",
  ];
  const consumers = state.observation?.consumers ?? [];
  lines.push(consumers.length ? "JetStream consumers" : "JetStream consumers: none yet");
  if (consumers.length) {
    lines.push(...textTable(["stream", "consumer", "pending", "ack pending", "redelivered"], consumers.map((c) =>
      [c.stream, c.consumer, String(c.pending), String(c.ackPending), String(c.redelivered)])).map((l) => `  ${l}`));
  }
  if (state.recentEvents.length) lines.push("", ...state.recentEvents);
  lines.push("", "req/s: handled by all replicas ($SRV.STATS); demo calls, errors, p50/p99: as the simulated services saw them");
  return lines;
}

/** One line for logs and pipes, when redrawing is not possible. */
export function renderPlainLine(state: DashboardState): string {
  const actors = state.supervisor.map((view) => {
    const measure = state.measures.find((m) => m.actor === view.actor);
    const errors = Object.values(measure?.errors ?? {}).reduce((a, b) => a + b, 0);
    return `${view.actor} ${replicasCell(view)} calls=${measure?.calls ?? 0} errors=${errors} p99=${formatMs(measure?.p99Ms)}`;
  });
  const tenants = state.tenants.filter((t) => t.measure.aiCalls > 0 || Object.keys(t.measure.rejections).length > 0)
    .map((t) => `${t.tenant.id} ${formatUsd(spendOf(t))}/${formatUsd(t.tenant.policy.budget.amountUsd)} ${formatCounts(t.measure.rejections)}`);
  const lag = (state.observation?.consumers ?? []).map((c) => `${c.consumer} pending=${c.pending}`);
  return [`[${(state.elapsedMs / 1000).toFixed(0)}s]`, actors.join(" | "), tenants.length ? `tenants: ${tenants.join(" | ")}` : "", lag.length ? `lag: ${lag.join(" ")}` : ""]
    .filter(Boolean).join("  ");
}
