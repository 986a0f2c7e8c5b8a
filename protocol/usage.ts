import { z } from "zod";
import { defineContract } from "./contract.ts";

export const UsageQuery = z.strictObject({
  /** Inclusive day range, YYYY-MM-DD (UTC). Default: today. */
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  groupBy: z.enum(["service", "model", "day"]).optional(),
});

export const UsageRow = z.object({
  key: z.string(),
  requests: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  costUsd: z.number(),
  cacheHits: z.number().int(),
  errors: z.number().int(),
});

export const UsageReport = z.object({
  tenant: z.string(),
  from: z.string(),
  to: z.string(),
  total: UsageRow,
  rows: z.array(UsageRow),
});

export const BudgetWarning = z.object({
  tenant: z.string(),
  threshold: z.union([z.literal(80), z.literal(100)]),
  spentUsd: z.number(),
  budgetUsd: z.number(),
  period: z.string(),
});

export const usageContract = defineContract({
  actor: "usage",
  requests: {
    report: { subject: "usage.report", input: UsageQuery, output: UsageReport },
  },
  events: {
    budgetWarning: { subject: "events.usage.budget-warning", schema: BudgetWarning },
  },
});
