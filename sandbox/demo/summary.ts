import type { DashboardState } from "./dashboard.ts";
import { actorRows, spendOf } from "./dashboard.ts";
import { formatCounts, formatUsd, textTable } from "./text-table.ts";

export interface SummaryCheck {
  readonly ok: boolean;
  readonly text: string;
}

/** What the demo is meant to show, checked against what happened. Only applies to running actors. */
export function summaryChecks(state: DashboardState, failures: number): SummaryCheck[] {
  const checks: SummaryCheck[] = [];
  for (const view of state.supervisor) {
    const calls = state.measures.find((m) => m.actor === view.actor)?.calls ?? 0;
    const handled = state.observation?.actors.find((a) => a.actor === view.actor)?.requests ?? 0;
    checks.push({ ok: calls + handled > 0, text: `traffic through ${view.actor}: ${calls} demo calls, ${handled} handled by its live replicas` });
  }
  const llmRuns = state.supervisor.some((v) => v.actor === "llm");
  for (const row of state.tenants) {
    if (!llmRuns) break;
    const spend = spendOf(row);
    const budget = row.tenant.policy.budget.amountUsd;
    if (row.tenant.role === "tight-budget") {
      const rejected = row.measure.rejections.OVER_BUDGET ?? 0;
      checks.push({ ok: rejected > 0 && spend <= budget + 1e-9, text: `${row.tenant.id} stopped by OVER_BUDGET ${rejected} times, having spent ${formatUsd(spend)} of its ${formatUsd(budget)} budget` });
    } else if (row.tenant.role === "rate-limited") {
      const limited = row.measure.rejections.RATE_LIMITED ?? 0;
      checks.push({ ok: limited > 0, text: `${row.tenant.id} got RATE_LIMITED ${limited} times (${row.tenant.policy.limits.requestsPerMinute} requests/minute)` });
    } else {
      checks.push({ ok: row.measure.aiCalls > 0, text: `${row.tenant.id} made ${row.measure.aiCalls} AI calls for ${formatUsd(spend)}` });
    }
  }
  checks.push({ ok: failures === 0, text: `${failures} failed calls other than the intended RATE_LIMITED / OVER_BUDGET` });
  return checks;
}

/** The final report of a `--duration` run. */
export function renderSummary(state: DashboardState, failures: number, failedActors: readonly string[]): string[] {
  const lines = [`Meshwork sandbox summary after ${(state.elapsedMs / 1000).toFixed(0)}s`, "", "Traffic per actor"];
  lines.push(...textTable(["actor", "replicas", "req/s", "demo calls", "errors by code", "p50", "p99"], actorRows(state)).map((l) => `  ${l}`));
  lines.push("", "AI spend per tenant");
  lines.push(...textTable(["tenant", "policy", "AI calls", "cached", "tokens", "spend / budget", "usage actor", "rejections by code"], state.tenants.map((row) => [
    row.tenant.id,
    row.tenant.role,
    String(row.measure.aiCalls),
    String(row.measure.cachedCalls),
    String(row.measure.tokens),
    `${formatUsd(spendOf(row))} / ${formatUsd(row.tenant.policy.budget.amountUsd)}`,
    row.usage ? `${row.usage.promptTokens + row.usage.completionTokens} tokens, ${formatUsd(row.usage.costUsd)}` : "-",
    formatCounts(row.measure.rejections),
  ])).map((l) => `  ${l}`));
  lines.push("", "Checks");
  for (const check of summaryChecks(state, failures)) lines.push(`  ${check.ok ? "✓" : "✗"} ${check.text}`);
  if (failedActors.length) lines.push("", `Actors that failed to start: ${failedActors.join(", ")} (see .meshwork/logs/)`);
  return lines;
}
