import type { z } from "zod";
import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";

type PutInput = z.output<typeof tenantsContract.requests.put.input>;

const POLICIES = "policies";

function withoutStorageFields(doc: TenantPolicy & { tenant?: string; _id?: unknown }): TenantPolicy {
  const { tenant: _tenant, _id, ...policy } = doc;
  return policy;
}

export async function getTenant(_input: unknown, context: WorkContext): Promise<TenantPolicy> {
  const found = await context.store.collection<TenantPolicy>(POLICIES).findOne(context.tenant, {});
  if (!found) throw new MeshError("NOT_FOUND", `unknown tenant ${context.tenant}`);
  return withoutStorageFields(found);
}

/** Optimistic concurrency: the write names the version it replaces; 0 creates. */
export async function putTenant(input: PutInput, context: WorkContext): Promise<TenantPolicy> {
  const policies = context.store.collection<TenantPolicy>(POLICIES);
  const next: TenantPolicy = {
    ...input.policy,
    tenantId: context.tenant,
    version: input.expectedVersion + 1,
    updatedAt: new Date().toISOString(),
  };
  if (input.expectedVersion === 0) {
    try {
      await policies.insertOne(context.tenant, { ...next });
    } catch (error) {
      throw new MeshError("CONFLICT", "tenant already exists; put with its current version", { cause: error });
    }
  } else {
    const updated = await policies.findOneAndUpdate(context.tenant, { version: input.expectedVersion }, { $set: next });
    if (!updated) {
      const current = await policies.findOne(context.tenant, {});
      if (!current) throw new MeshError("NOT_FOUND", `unknown tenant ${context.tenant}`);
      throw new MeshError("CONFLICT", `stale version ${input.expectedVersion}; current is ${current.version}`);
    }
  }
  await context.publish(tenantsContract.events.updated, { tenantId: context.tenant, version: next.version, policy: next }, {
    eventId: `${context.tenant}:${next.version}`,
  });
  return next;
}
