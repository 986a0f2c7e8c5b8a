import { textTable } from "../demo/text-table.ts";
import type { ChaosFigures } from "./chaos-figures.ts";

export interface RunInfo {
  readonly durationS: number;
  readonly seed: number;
  readonly kills: { readonly replicas: number; readonly nats: number };
  readonly at: Date;
}

/** The one table `make chaos` prints (also what the README's Reliability section quotes). */
export function renderChaosTable(figures: ChaosFigures, run: RunInfo): string[] {
  const { requests, durables, usage, completions } = figures;
  const codes = Object.entries(requests.errors).sort(([, a], [, b]) => b - a).map(([code, n]) => `${code} ${n}`).join(", ") || "none";
  const rows: string[][] = [
    ["requests", "sent / answered", `${requests.sent} / ${requests.answered}`],
    ["", "typed errors by code", codes],
    ["", "timeouts", String(requests.timeouts)],
    ...durables.map((d) => ["events", d.durable, `published ${d.published}, consumed ${d.consumed}, dead-lettered ${d.deadLettered}, outstanding ${d.outstanding}`]),
    ["", "applied twice (usage: requests counted / usage events)", `${usage.counted - usage.events > 0 ? usage.counted - usage.events : 0} (${usage.counted} / ${usage.events})`],
    ["completions", "answered by the provider", String(completions.provider)],
    ["", "counted in usage", `${completions.usage} (cut off by kills, no usage event by design: up to ${completions.cutOff})`],
    ["", "charged in ai-capacity (+ still reserved) / cost counted in usage", `$${completions.chargedUsd.toFixed(6)} (+ $${completions.reservedUsd.toFixed(6)}) / $${completions.countedUsd.toFixed(6)}`],
  ];
  return [
    `make chaos: ${run.durationS} s, seed ${run.seed}, ${run.kills.replicas} replicas and ${run.kills.nats} NATS node SIGKILLed, ${run.at.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    ...textTable(["", "", ""], rows),
  ];
}
