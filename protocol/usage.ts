import { z } from "zod";
import { defineContract } from "./contract.ts";
import { HEADER_LIMITS } from "./headers.ts";

/** Longest day range one report may cover. */
export const MAX_REPORT_DAYS = 366;
const DAY_MS = 86_400_000;

/** A UTC calendar day, YYYY-MM-DD (2024-02-30 is refused). */
export const UsageDay = z.iso.date();

export const UsageQuery = z.strictObject({
  /** Inclusive day range, YYYY-MM-DD (UTC). Default: today. */
  from: UsageDay.optional(),
  to: UsageDay.optional(),
  /** How `rows` are keyed. Default "day". */
  groupBy: z.enum(["service", "model", "day"]).default("day"),
}).refine((query) => !query.from || !query.to || query.from <= query.to, { message: "from must not be after to", path: ["from"] })
  .refine((query) => !query.from || !query.to || (Date.parse(query.to) - Date.parse(query.from)) / DAY_MS < MAX_REPORT_DAYS, {
    message: `a report covers at most ${MAX_REPORT_DAYS} days`, path: ["to"],
  });
export type UsageQuery = z.output<typeof UsageQuery>;

export const UsageRow = z.object({
  /** The service, model or day of this row; "total" for the total. */
  key: z.string(),
  /** llm.complete requests, whatever their outcome. */
  requests: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  /** Requests the provider failed. */
  errors: z.number().int().nonnegative(),
  /** Requests refused by policy or capacity before any provider call. */
  rejected: z.number().int().nonnegative(),
});
export type UsageRow = z.output<typeof UsageRow>;

export const UsageReport = z.object({
  tenant: z.string(),
  from: z.string(),
  to: z.string(),
  total: UsageRow,
  /** Sorted by key. */
  rows: z.array(UsageRow),
});
export type UsageReport = z.output<typeof UsageReport>;

/** Published once per tenant, budget period and threshold (event id `${tenant}:${period}:${threshold}`). */
export const BudgetWarning = z.object({
  tenant: z.string().regex(HEADER_LIMITS.tenant),
  threshold: z.union([z.literal(80), z.literal(100)]),
  spentUsd: z.number().nonnegative(),
  budgetUsd: z.number().nonnegative(),
  /** The budget period: YYYY-MM-DD for daily budgets, YYYY-MM for monthly ones (UTC). */
  period: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/),
});
export type BudgetWarning = z.output<typeof BudgetWarning>;

export const usageContract = defineContract({
  actor: "usage",
  requests: {
    /** The calling tenant's usage and cost for a day range. */
    report: { subject: "usage.report", input: UsageQuery, output: UsageReport, tenantFacing: true },
  },
  events: {
    budgetWarning: { subject: "events.usage.budget-warning", schema: BudgetWarning },
  },
});
