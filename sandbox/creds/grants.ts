/**
 * What the operator has granted beyond the actor definitions: service users (callers that are
 * not actors), tenant-scoped callers, and revoked user keys. Kept as `grants.json` beside the
 * credentials, so `mesh creds` can re-issue everything from it at any time.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { ACTOR_NAME } from "../../protocol/subjects.ts";
import { ROLES } from "../../protocol/roles.ts";
import { TenantId } from "../../protocol/tenants.ts";

const UserName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes");

export const ServiceGrant = z.strictObject({
  /** Actors whose request subjects the service may call (privileged ones only with the role). */
  calls: z.array(z.string().regex(ACTOR_NAME)).default([]),
  roles: z.array(z.enum(ROLES)).default([]),
  /** When its credentials stop working (Unix seconds); absent: until revoked. */
  expiresAt: z.number().int().positive().optional(),
});
export type ServiceGrant = z.infer<typeof ServiceGrant>;

export const Grants = z.strictObject({
  services: z.record(UserName, ServiceGrant).default({}),
  tenants: z.array(TenantId).default([]),
  /** Revoked user public keys -> revocation time (Unix seconds); the account JWTs carry them. */
  revoked: z.record(z.string(), z.number().int()).default({}),
});
export type Grants = z.infer<typeof Grants>;

export const GRANTS_FILE = "grants.json";

export function readGrants(file: string): Grants {
  if (!existsSync(file)) return Grants.parse({});
  const parsed = Grants.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function writeGrants(file: string, grants: Grants): void {
  writeFileSync(file, `${JSON.stringify(grants, null, 2)}\n`);
}
