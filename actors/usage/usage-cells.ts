/**
 * Usage counters per service and model ("cells") and their arithmetic. Pure: the ledger, the
 * folds and the reports all add cells the same way, and the tests check it table-driven.
 */
import type { UsageEvent } from "../../protocol/llm.ts";
import { toNanoUsd } from "./days.ts";

/** The counters one event adds. Cost in whole nano-dollars, so sums stay exact. */
export interface UsageCounters {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costNanoUsd: number;
  cacheHits: number;
  errors: number;
  rejected: number;
}

export const COUNTER_NAMES: readonly (keyof UsageCounters)[] = ["requests", "promptTokens", "completionTokens", "costNanoUsd", "cacheHits", "errors", "rejected"];

/**
 * Counters of one service and model. Kept as an array element, never as a field name: service
 * and model names may hold dots (`gpt-4.1`), which MongoDB field names may not.
 */
export interface UsageCell extends UsageCounters {
  service: string;
  model: string;
}

export function emptyCounters(): UsageCounters {
  return { requests: 0, promptTokens: 0, completionTokens: 0, costNanoUsd: 0, cacheHits: 0, errors: 0, rejected: 0 };
}

export function countersOf(event: UsageEvent): UsageCounters {
  return {
    requests: 1,
    promptTokens: event.promptTokens,
    completionTokens: event.completionTokens,
    costNanoUsd: toNanoUsd(event.costUsd),
    cacheHits: event.cacheHit ? 1 : 0,
    errors: event.outcome === "error" ? 1 : 0,
    rejected: event.outcome === "rejected" ? 1 : 0,
  };
}

export function addCounters<T extends UsageCounters>(into: T, from: UsageCounters): T {
  for (const name of COUNTER_NAMES) into[name] += from[name];
  return into;
}

/** The sum of cell lists, one cell per service and model, sorted by service then model. */
export function sumCells(...lists: readonly (readonly UsageCell[])[]): UsageCell[] {
  const cells = new Map<string, UsageCell>();
  for (const list of lists) {
    for (const cell of list) {
      const key = JSON.stringify([cell.service, cell.model]);
      const into = cells.get(key);
      if (into) addCounters(into, cell);
      else cells.set(key, addCounters({ service: cell.service, model: cell.model, ...emptyCounters() }, cell));
    }
  }
  return [...cells.values()].sort((a, b) => a.service.localeCompare(b.service) || a.model.localeCompare(b.model));
}

/**
 * Services a tenant's day keeps by name. The service of an event is the caller's to choose (the
 * request's `service` or its Mw-Service header), so without a bound one tenant could grow its
 * day's running total, and the cost of every write of it, without limit. Services past the
 * bound are counted together under OTHER_SERVICES (which no service name can be), per model.
 */
export const MAX_SERVICES_PER_DAY = 200;
export const OTHER_SERVICES = "(other services)";

/** A day's running total plus a batch's cells; a service new to the day past the bound is counted as OTHER_SERVICES. */
export function addToDay(day: readonly UsageCell[], added: readonly UsageCell[], maxServices = MAX_SERVICES_PER_DAY): UsageCell[] {
  const named = new Set(day.map((cell) => cell.service).filter((service) => service !== OTHER_SERVICES));
  const bounded = [...added].sort((a, b) => a.service.localeCompare(b.service)).map((cell) => {
    if (named.has(cell.service)) return cell;
    // One place is kept for OTHER_SERVICES.
    if (named.size < maxServices - 1) {
      named.add(cell.service);
      return cell;
    }
    return { ...cell, service: OTHER_SERVICES };
  });
  return sumCells(day, bounded);
}

export function cellOf(event: Pick<UsageEvent, "service" | "model">, counters: UsageCounters): UsageCell {
  return { service: event.service, model: event.model, ...counters };
}

export function totalCost(cells: readonly UsageCell[]): number {
  let cost = 0;
  for (const cell of cells) cost += cell.costNanoUsd;
  return cost;
}
