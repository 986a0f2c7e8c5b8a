/**
 * What an operator does with credentials: add a service user or a tenant, rotate a user's key
 * (the old key is revoked in its account JWT), revoke one. Each re-issues every file in the folder
 * from the grants; the server applies the new account JWTs on reload (`nats-server --signal reload`).
 */
import { join } from "node:path";
import { rmSync } from "node:fs";
import { actors } from "../../actors/index.ts";
import type { Role } from "../../protocol/roles.ts";
import { Grants, GRANTS_FILE, readGrants, ServiceGrant, writeGrants } from "./grants.ts";
import { planIdentities, tenantAccount } from "./identity-plan.ts";
import { userKeyName, type IssuedCredentials } from "./issue-credentials.ts";
import { KeyStore } from "./key-store.ts";
import { issueMeshCredentials, meshDefinitions } from "./mesh-credentials.ts";
import type { ActorDefinition } from "../../runtime/index.ts";
import { TenantId } from "../../protocol/tenants.ts";

export class CredsError extends Error {}

/** Applies a change to grants.json only when the result is valid; otherwise nothing is written. */
function updateGrants(dir: string, change: (grants: Grants) => Grants): Grants {
  const file = join(dir, GRANTS_FILE);
  const parsed = Grants.safeParse(change(readGrants(file)));
  if (!parsed.success) throw new CredsError(`invalid grants: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  writeGrants(file, parsed.data);
  return parsed.data;
}

export interface ServiceRequest {
  readonly calls: readonly string[];
  readonly roles?: readonly Role[];
  readonly expiresAt?: number;
}

export async function addService(dir: string, name: string, request: ServiceRequest): Promise<IssuedCredentials> {
  const unknown = request.calls.filter((actor) => !actors[actor]);
  if (unknown.length > 0) throw new CredsError(`not actors of this mesh: ${unknown.join(", ")} (known: ${Object.keys(actors).join(", ")})`);
  const grant = ServiceGrant.safeParse({ calls: request.calls, roles: request.roles ?? [], ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}) });
  if (!grant.success) throw new CredsError(`invalid grant: ${grant.error.issues.map((issue) => issue.message).join("; ")}`);
  updateGrants(dir, (grants) => ({ ...grants, services: { ...grants.services, [name]: grant.data } }));
  return issueMeshCredentials(dir);
}

export async function addTenant(dir: string, tenant: string): Promise<IssuedCredentials> {
  if (!TenantId.safeParse(tenant).success) throw new CredsError(`invalid tenant id ${JSON.stringify(tenant)}: lower-case letters, digits and dashes`);
  updateGrants(dir, (grants) => ({ ...grants, tenants: grants.tenants.includes(tenant) ? grants.tenants : [...grants.tenants, tenant] }));
  return issueMeshCredentials(dir);
}

function revokeKey(dir: string, user: string, grants: Grants, definitions: Readonly<Record<string, ActorDefinition>>): Grants {
  const planned = planIdentities(definitions, grants).users.find((candidate) => candidate.name === user);
  if (!planned) throw new CredsError(`no user ${user} in ${dir}`);
  const keys = new KeyStore(dir);
  const publicKey = keys.userPublicKey(userKeyName(planned));
  keys.forget("user", userKeyName(planned));
  rmSync(join(dir, planned.credsFile), { force: true });
  // Every JWT of that key issued up to now is refused; a JWT's iat has one-second resolution.
  return publicKey ? { ...grants, revoked: { ...grants.revoked, [publicKey]: Math.floor(Date.now() / 1000) + 1 } } : grants;
}

/** A new key and creds file for the user; the old key is revoked. */
export async function rotateUser(dir: string, user: string): Promise<IssuedCredentials> {
  const definitions = await meshDefinitions();
  updateGrants(dir, (grants) => revokeKey(dir, user, grants, definitions));
  return issueMeshCredentials(dir);
}

/** Revokes the user's key and removes its grant (a service or a tenant); an actor's user is rotated instead. */
export async function revokeUser(dir: string, user: string): Promise<IssuedCredentials> {
  const definitions = await meshDefinitions();
  updateGrants(dir, (grants) => {
    const revoked = revokeKey(dir, user, grants, definitions);
    const services = Object.fromEntries(Object.entries(revoked.services).filter(([name]) => name !== user));
    const tenants = revoked.tenants.filter((tenant) => tenantAccount(tenant) !== user);
    return { ...revoked, services, tenants };
  });
  return issueMeshCredentials(dir);
}
