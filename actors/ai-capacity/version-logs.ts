import { hasCode, type GlobalCollection, type TenantCollection } from "../../runtime/index.ts";
import type { VersionDoc, VersionLog } from "./versioned-state.ts";

/** Newest version of a key first (tenant-owned collections lead with the tenant, as every query names it). */
export const VERSION_INDEXES = [{ key: { key: 1, version: -1 }, name: "newest_version" }];
export const TENANT_VERSION_INDEXES = [{ key: { tenant: 1, key: 1, version: -1 }, name: "newest_version" }];

// Retired versions have no state: they only keep their _id taken.
const live = { state: { $exists: true } };

async function appended(insert: () => Promise<void>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (error) {
    if (hasCode(error, "CONFLICT")) return false; // duplicate _id: that version is taken
    throw error;
  }
}

/** Versions in a tenant-owned collection: every read and write carries the tenant (the scope). */
export function tenantVersionLog<S>(collection: TenantCollection<VersionDoc<S>>): VersionLog<S> {
  return {
    versionId: (tenant, key, version) => `${tenant}/${key}/${version}`,
    latest: async (tenant, key) => (await collection.find(tenant, { key, ...live }, { sort: { version: -1 }, limit: 1 }))[0] ?? null,
    append: (tenant, doc) => appended(() => collection.insertOne(tenant, doc)),
    retire: async (tenant, key, version) => {
      await collection.updateOne(tenant, { key, version }, { $unset: { state: "" } });
    },
    forget: async (tenant, key, before) => {
      await collection.deleteMany(tenant, { key, state: { $exists: false }, at: { $lt: before } });
    },
  };
}

/** Versions in a global collection (state shared by all tenants, such as provider health). */
export function globalVersionLog<S>(collection: GlobalCollection<VersionDoc<S>>): VersionLog<S> {
  return {
    versionId: (_scope, key, version) => `${key}/${version}`,
    latest: async (_scope, key) => (await collection.find({ key, ...live }, { sort: { version: -1 }, limit: 1 }))[0] ?? null,
    append: (_scope, doc) => appended(() => collection.insertOne(doc)),
    retire: async (_scope, key, version) => {
      await collection.updateOne({ key, version }, { $unset: { state: "" } });
    },
    forget: async (_scope, key, before) => {
      await collection.deleteMany({ key, state: { $exists: false }, at: { $lt: before } });
    },
  };
}
