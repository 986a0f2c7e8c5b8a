import type { Document } from "mongodb";
import { MeshError } from "../errors.ts";

/**
 * Guards that make the store's promises hold: every tenant-owned call names its tenant, filters
 * and pipelines are narrowed to it (and to unexpired records), and nothing reaches elsewhere.
 */

export function requireTenant(tenant: unknown): string {
  if (typeof tenant !== "string" || tenant.length === 0) {
    // A bug in the caller, never a reason to fall back to an unscoped query.
    throw new MeshError("INTERNAL", "tenant-owned collection called without a tenant");
  }
  return tenant;
}

export function requireObject(value: unknown, what: string): Document {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MeshError("INTERNAL", `store ${what} must be an object`);
  }
  return value as Document;
}

/** The caller's filter AND the scope; flat when no key overlaps, so upserts still copy the scope. */
export function narrowFilter(filter: unknown, scope: Document): Document {
  const own = requireObject(filter, "filter");
  if (Object.keys(scope).length === 0) return own;
  const overlaps = Object.keys(scope).some((key) => key in own);
  return overlaps ? { $and: [own, scope] } : { ...own, ...scope };
}

/** A filter may repeat its own tenant, never name another one. */
export function tenantFilter(filter: unknown, tenant: string): Document {
  const own = { ...requireObject(filter, "filter") };
  if ("tenant" in own) {
    if (own.tenant !== tenant) throw new MeshError("INTERNAL", "a store filter named a different tenant");
    delete own.tenant;
  }
  return { ...own, tenant };
}

export function unexpired(now = new Date()): Document {
  return { expiresAt: { $gt: now } };
}

/** Updates may not move a record to another tenant or strip its tenant. */
export function requireTenantKeptBy(update: unknown, tenant: string): Document {
  const operators = requireObject(update, "update");
  for (const [operator, fields] of Object.entries(operators)) {
    if (typeof fields !== "object" || fields === null || !("tenant" in fields)) continue;
    const keepsTenant = (operator === "$set" || operator === "$setOnInsert") && (fields as Document).tenant === tenant;
    if (!keepsTenant) throw new MeshError("INTERNAL", "a store update may not change a record's tenant");
  }
  return operators;
}

/** Upserts into an expiring collection must date the record, or it would never expire. */
export function requireExpiryOnUpsert(update: Document): void {
  const dated = [update.$set, update.$setOnInsert].some((fields: unknown) =>
    typeof fields === "object" && fields !== null && (fields as Document).expiresAt instanceof Date);
  if (!dated) throw new MeshError("INTERNAL", "an upsert into an expiring collection must set expiresAt to a Date");
}

// Stages that read or write other collections (or other databases) escape the scope.
const ESCAPING_STAGES: ReadonlySet<string> = new Set(["$lookup", "$graphLookup", "$unionWith", "$out", "$merge"]);

export function scopedPipeline(pipeline: unknown, scope: Document): Document[] {
  if (!Array.isArray(pipeline)) throw new MeshError("INTERNAL", "store pipeline must be an array of stages");
  for (const stage of pipeline) rejectEscapingStage(stage);
  return Object.keys(scope).length === 0 ? [...pipeline] : [{ $match: scope }, ...pipeline];
}

function rejectEscapingStage(stage: unknown): void {
  for (const [name, body] of Object.entries(requireObject(stage, "pipeline stage"))) {
    if (ESCAPING_STAGES.has(name)) throw new MeshError("INTERNAL", `aggregation stage ${name} is not allowed in the store`);
    if (name === "$facet" && typeof body === "object" && body !== null) {
      for (const inner of Object.values(body as Document)) {
        if (Array.isArray(inner)) inner.forEach(rejectEscapingStage);
      }
    }
  }
}

export function readLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
    throw new MeshError("INTERNAL", "store find limit must be a non-negative integer");
  }
  return limit;
}
