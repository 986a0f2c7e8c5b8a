import { HEADER_LIMITS } from "../../protocol/headers.ts";
import { MeshError } from "../errors.ts";

/** Longest key the keyed API accepts (the `_id` is the tenant, a slash and the key). */
export const MAX_KEY_LENGTH = 512;
/** Most keys one `getMany` reads (that many parallel point reads). */
export const MAX_GET_MANY_KEYS = 256;
/** Most records one `insertMany` sends (one round trip). */
export const MAX_INSERT_MANY_ENTRIES = 1000;

/**
 * The `_id` of a tenant's keyed record: `${tenant}/${key}`. Tenant ids are `[a-z0-9-]` (no
 * slash), so one tenant's ids can never be a prefix of another's: `acme/` is not `acme-eu/`.
 * Throws `MeshError INTERNAL` (a programming error) for a malformed tenant or key.
 */
export function tenantKey(tenant: string, key: string): string {
  return `${requireTenantId(tenant)}/${requireKey(key)}`;
}

/** A tenant id as the protocol defines it; anything else is a caller's bug. */
export function requireTenantId(tenant: unknown): string {
  if (typeof tenant !== "string" || !HEADER_LIMITS.tenant.test(tenant)) {
    throw new MeshError("INTERNAL", "keyed store call needs a tenant id of [a-z0-9-] (at most 63 characters)");
  }
  return tenant;
}

export function requireKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new MeshError("INTERNAL", `store key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

/** The tenant's own id space: every string `_id` of a tenant-owned record starts with it. */
export function tenantIdPrefix(tenant: string): string {
  return `${tenant}/`;
}
