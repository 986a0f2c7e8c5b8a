/**
 * The mesh's NATS identities, derived from the actor definitions and the grants: accounts
 * (system, mesh, services, one per tenant), their service exports and imports, and every user
 * with its permissions. Pure data; issue-credentials.ts signs it.
 */
import type { ActorContract } from "../../protocol/contract.ts";
import { ROLES } from "../../protocol/roles.ts";
import type { ActorDefinition } from "../../runtime/index.ts";
import { IDENTITY_TAGS } from "../../runtime/auth/caller-identity.ts";
import { actorPermissions, callableSubjects, callerPermissions, streamingSubjects, tenantFacingSubjects, type SubjectPermissions } from "../../runtime/auth/permissions.ts";
import type { Grants } from "./grants.ts";

export const MESH_ACCOUNT = "mesh";
export const SERVICES_ACCOUNT = "services";
export const SYSTEM_ACCOUNT = "system";
export const OPERATOR_USER = "operator";

export function tenantAccount(tenant: string): string {
  return `tenant-${tenant}`;
}

export interface PlannedUser {
  readonly name: string;
  readonly account: string;
  /** Absent: unrestricted within its account (the operator). */
  readonly permissions?: SubjectPermissions;
  readonly tags: readonly string[];
  /** File name of its creds in the credentials folder. */
  readonly credsFile: string;
  /** Unix seconds after which the server refuses it. */
  readonly expiresAt?: number;
}

export interface PlannedAccount {
  readonly name: string;
  readonly jetstream: boolean;
  /** Request subjects other accounts may import. */
  readonly exports: readonly string[];
  /** Request subjects imported from the mesh account, with the caller's identity shared. */
  readonly imports: readonly string[];
  /** Exported subjects answered with a stream of messages (response type Stream). */
  readonly streaming?: readonly string[];
}

export interface IdentityPlan {
  readonly accounts: readonly PlannedAccount[];
  readonly users: readonly PlannedUser[];
}

export function actorCredsFile(actor: string): string {
  return `actor-${actor}.creds`;
}

export function planIdentities(actors: Readonly<Record<string, ActorDefinition>>, grants: Grants): IdentityPlan {
  const definitions = Object.values(actors);
  const contracts: ActorContract[] = definitions.map((definition) => definition.contract);
  const allRequests = callableSubjects(contracts, ROLES);
  const contractOf = (actor: string): ActorContract => {
    const definition = actors[actor];
    if (!definition) throw new Error(`grant names unknown actor ${actor}`);
    return definition.contract;
  };
  const accounts: PlannedAccount[] = [
    { name: SYSTEM_ACCOUNT, jetstream: false, exports: [], imports: [] },
    { name: MESH_ACCOUNT, jetstream: true, exports: allRequests, imports: [], streaming: streamingSubjects(contracts) },
    { name: SERVICES_ACCOUNT, jetstream: false, exports: [], imports: allRequests },
    ...grants.tenants.map((tenant) => ({ name: tenantAccount(tenant), jetstream: false, exports: [], imports: tenantFacingSubjects(contracts) })),
  ];
  const users: PlannedUser[] = [
    { name: OPERATOR_USER, account: MESH_ACCOUNT, tags: [], credsFile: `${OPERATOR_USER}.creds` },
    ...definitions.map((definition) => ({
      name: definition.name, account: MESH_ACCOUNT, permissions: actorPermissions(definition), tags: [], credsFile: actorCredsFile(definition.name),
    })),
    ...Object.entries(grants.services).map(([name, grant]) => ({
      name,
      account: SERVICES_ACCOUNT,
      permissions: callerPermissions(name, callableSubjects(grant.calls.map(contractOf), grant.roles)),
      tags: [`${IDENTITY_TAGS.service}${name}`],
      credsFile: `${name}.creds`,
      ...(grant.expiresAt === undefined ? {} : { expiresAt: grant.expiresAt }),
    })),
    ...grants.tenants.map((tenant) => ({
      name: tenantAccount(tenant),
      account: tenantAccount(tenant),
      permissions: callerPermissions(tenantAccount(tenant), tenantFacingSubjects(contracts)),
      tags: [`${IDENTITY_TAGS.tenant}${tenant}`],
      credsFile: `${tenantAccount(tenant)}.creds`,
    })),
  ];
  const names = new Set<string>();
  for (const user of users) {
    if (names.has(user.credsFile)) throw new Error(`two users would share ${user.credsFile}`);
    names.add(user.credsFile);
  }
  return { accounts, users };
}
