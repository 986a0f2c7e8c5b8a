import { hasCode, type GlobalCollection, type TenantCollection } from "../../runtime/index.ts";
import type { VersionDoc, VersionLog } from "./versioned-state.ts";

/** Indexes both kinds of version collection need: newest version of a key first. */
export const VERSION_INDEXES = [{ key: { key: 1, version: -1 }, name: "newest_version" }];

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
    latest: async (tenant, key) => (await collection.find(tenant, { key }, { sort: { version: -1 }, limit: 1 }))[0] ?? null,
    append: (tenant, doc) => appended(() => collection.insertOne(tenant, doc)),
    prune: async (tenant, key, throughVersion) => {
      await collection.deleteMany(tenant, { key, version: { $lte: throughVersion } });
    },
  };
}

/** Versions in a global collection (state shared by all tenants, such as provider health). */
export function globalVersionLog<S>(collection: GlobalCollection<VersionDoc<S>>): VersionLog<S> {
  return {
    versionId: (_scope, key, version) => `${key}/${version}`,
    latest: async (_scope, key) => (await collection.find({ key }, { sort: { version: -1 }, limit: 1 }))[0] ?? null,
    append: (_scope, doc) => appended(() => collection.insertOne(doc)),
    prune: async (_scope, key, throughVersion) => {
      await collection.deleteMany({ key, version: { $lte: throughVersion } });
    },
  };
}
