import { createHash } from "node:crypto";
import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import { hasCode, MeshError, type Handler } from "../../runtime/index.ts";
import { policyRecords, type StoredPolicy } from "./policy-records.ts";

function withoutStorageFields(doc: StoredPolicy): TenantPolicy {
  const { tenant: _tenant, _id, ...policy } = doc;
  return policy;
}

export const getTenant: Handler<typeof tenantsContract, "get"> = async (_input, context) => {
  const found = await policyRecords(context.store).latest(context.tenant, { checkHead: false });
  if (!found) throw new MeshError("NOT_FOUND", `unknown tenant ${context.tenant}`);
  return withoutStorageFields(found.policy);
};

/**
 * Optimistic concurrency without updates: each put inserts the next version under its own id,
 * and the unique `_id` lets exactly one of several concurrent writers win. (On FerretDB a
 * conditional update is not atomic under concurrency; a unique insert is.)
 */
/**
 * The event id of a put: tenant, version and a digest of the policy. A publish that timed out
 * may have been stored although the put was withdrawn; a retry then writes the same version with
 * perhaps another policy, and must not reuse the msg id, or JetStream would drop its event as a
 * duplicate of the withdrawn one (consumers would keep the wrong policy). The same put retried
 * keeps its id, so that repeat is still dropped.
 */
export function policyEventId(policy: TenantPolicy): string {
  const { updatedAt: _updatedAt, ...content } = policy;
  const digest = createHash("sha256").update(JSON.stringify(content)).digest("hex").slice(0, 16);
  return `${policy.tenantId}:${policy.version}:${digest}`;
}

export const putTenant: Handler<typeof tenantsContract, "put"> = async (input, context) => {
  const records = policyRecords(context.store);
  const current = await records.latest(context.tenant, { checkHead: true });
  const currentVersion = current?.policy.version ?? 0;
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
    await records.insertVersion(context.tenant, next);
  } catch (error) {
    if (hasCode(error, "CONFLICT")) throw new MeshError("CONFLICT", `stale version ${input.expectedVersion}: another write won`, { cause: error });
    throw error;
  }
  try {
    await context.publish(tenantsContract.events.updated, { tenantId: context.tenant, version: next.version, policy: next }, {
      eventId: policyEventId(next),
    });
  } catch (error) {
    // No version without its event: withdraw it, so the caller can retry the same put.
    await records.withdrawVersion(context.tenant, next.version);
    throw error;
  }
  try {
    await records.advance(context.tenant, next, current?.headVersion ?? 0);
  } catch (error) {
    // The put has happened (version stored, event published); the head is a hint readers probe
    // past, and the next put trims history again.
    context.log.warn({ err: error instanceof Error ? error.message : error, version: next.version }, "tenant head or history not updated");
  }
  return next;
};
