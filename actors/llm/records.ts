import type { ChatMessage, CompletionResult, UsageEvent } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { isMeshError, type WorkContext } from "../../runtime/index.ts";

export const CALL_LOG = "call_log";
export const EVALUATION_SAMPLES = "evaluation_samples";
const DAY_MS = 86_400_000;

/** Operational record of one provider call: hashes and sizes only, never text. */
export interface CallRecord {
  requestHash: string;
  service: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  outcome: UsageEvent["outcome"];
  errorCode?: string;
  fallback: boolean;
  at: Date;
  expiresAt: Date;
}

/**
 * How call records are stored: one document per tenant and written batch, its records one JSON
 * line each in `calls` (`at` as an ISO string). A document per record cost FerretDB about 0.1 ms
 * of CPU per completion, 0.15-0.16 against 0.06-0.08 ms in pages (sandbox/bench/README.md, "Call
 * records in pages"); a page costs it one document per batch. `at`/`until` bound the page's
 * calls, so the `tenant, at` index still finds a time range; `callRecordsOf` unpacks them.
 */
export interface CallLogPage {
  at: Date;
  until: Date;
  count: number;
  calls: string;
  expiresAt: Date;
}

export function callLogPage(records: readonly CallRecord[]): CallLogPage {
  let until = records[0]!.at;
  let expiresAt = records[0]!.expiresAt;
  const lines: string[] = [];
  for (const { expiresAt: recordExpiry, ...record } of records) {
    if (record.at > until) until = record.at;
    if (recordExpiry > expiresAt) expiresAt = recordExpiry;
    lines.push(JSON.stringify(record));
  }
  return { at: records[0]!.at, until, count: records.length, calls: lines.join("\n"), expiresAt };
}

/** The call records a page holds (each with the page's expiry). */
export function callRecordsOf(page: CallLogPage): CallRecord[] {
  return page.calls.split("\n").map((line) => {
    const record = JSON.parse(line) as Omit<CallRecord, "at" | "expiresAt"> & { at: string };
    return { ...record, at: new Date(record.at), expiresAt: page.expiresAt };
  });
}

/** Kept only when the tenant's policy asks for it (retention.storePrompts), for evaluation. */
export interface EvaluationSample {
  requestHash: string;
  model: string;
  messages: ChatMessage[];
  output: { content: string | null; toolCalls: CompletionResult["toolCalls"] };
  at: Date;
  expiresAt: Date;
}

function retentionEnd(policy: TenantPolicy, from: Date): Date {
  return new Date(from.getTime() + policy.retention.retentionDays * DAY_MS);
}

// These records serve operations and evaluation, not the caller: a failed write is logged, never answered.
async function bestEffort(context: WorkContext, what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    context.log.warn({ err: isMeshError(error) ? error.message : error }, `${what} not stored`);
  }
}

/** The call's record, stamped now and kept for the tenant's retention (written in batches by call-log.ts). */
export function callRecord(policy: TenantPolicy, fields: Omit<CallRecord, "at" | "expiresAt">): CallRecord {
  const at = new Date();
  return { ...fields, at, expiresAt: retentionEnd(policy, at) };
}

export function storeEvaluationSample(context: WorkContext, policy: TenantPolicy, sample: Omit<EvaluationSample, "at" | "expiresAt">): Promise<void> {
  if (!policy.retention.storePrompts) return Promise.resolve();
  const at = new Date();
  return bestEffort(context, "evaluation sample", () =>
    context.store.collection<EvaluationSample>(EVALUATION_SAMPLES).insertOne(context.tenant, { ...sample, at, expiresAt: retentionEnd(policy, at) }));
}
