import type { z } from "zod";
import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import { hasCode, MeshError, type WorkContext } from "../../runtime/index.ts";

type PutInput = z.output<typeof tenantsContract.requests.put.input>;

const POLICIES = "policies";
const HISTORY_VERSIONS = 10;

function withoutStorageFields(doc: TenantPolicy & { tenant?: string; _id?: unknown }): TenantPolicy {
  const { tenant: _tenant, _id, ...policy } = doc;
  return policy;
}

/** The newest version is the policy; earlier versions are kept briefly as history. */
async function latestPolicy(context: WorkContext): Promise<(TenantPolicy & { tenant?: string }) | undefined> {
  const [latest] = await context.store.collection<TenantPolicy>(POLICIES).find(context.tenant, {}, { sort: { version: -1 }, limit: 1 });
  return latest;
}

export async function getTenant(_input: unknown, context: WorkContext): Promise<TenantPolicy> {
  const found = await latestPolicy(context);
  if (!found) throw new MeshError("NOT_FOUND", `unknown tenant ${context.tenant}`);
  return withoutStorageFields(found);
}

/**
 * Optimistic concurrency without updates: each put inserts the next version, and the unique
 * index on (tenant, version) lets exactly one of several concurrent writers win. (On FerretDB a
 * conditional update is not atomic under concurrency; a unique insert is.)
 */
export async function putTenant(input: PutInput, context: WorkContext): Promise<TenantPolicy> {
  const policies = context.store.collection<TenantPolicy>(POLICIES);
  const current = await latestPolicy(context);
  const currentVersion = current?.version ?? 0;
  if (input.expectedVersion !== currentVersion) {
    if (!current) throw new MeshError("NOT_FOUND", `unknown tenant ${context.tenant}`);
    throw new MeshError("CONFLICT", input.expectedVersion === 0
      ? "tenant already exists; put with its current version"
      : `stale version ${input.expectedVersion}; current is ${currentVersion}`);
  }
  const next: TenantPolicy = {
    ...input.policy,
    tenantId: context.tenant,
    version: currentVersion + 1,
    updatedAt: new Date().toISOString(),
  };
  try {
    await policies.insertOne(context.tenant, { ...next });
  } catch (error) {
    if (hasCode(error, "CONFLICT")) throw new MeshError("CONFLICT", `stale version ${input.expectedVersion}: another write won`, { cause: error });
    throw error;
  }
  try {
    await context.publish(tenantsContract.events.updated, { tenantId: context.tenant, version: next.version, policy: next }, {
      eventId: `${context.tenant}:${next.version}`,
    });
  } catch (error) {
    // No version without its event: withdraw it, so the caller can retry the same put.
    await policies.deleteOne(context.tenant, { version: next.version });
    throw error;
  }
  await policies.deleteMany(context.tenant, { version: { $lte: next.version - HISTORY_VERSIONS } });
  return next;
}
