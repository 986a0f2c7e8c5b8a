import { hasCode, MeshError, type GlobalCollection } from "../../runtime/index.ts";
import type { VersionDoc, VersionLog } from "./versioned-state.ts";

/** Newest version of a key first, for the sorted query (the fallback when no hint helps). */
export const VERSION_INDEXES = [{ key: { key: 1, version: -1 }, name: "newest_version" }];
export const TENANT_VERSION_INDEXES = [{ key: { tenant: 1, key: 1, version: -1 }, name: "newest_version" }];

// Retired versions have no state: they only keep their _id taken.
const live = { state: { $exists: true } };

/**
 * A version as stored: the state as one JSON string. FerretDB converts every nested field of a
 * document between BSON and SQLite JSON on each read and write; one string field instead of a
 * few hundred nested ones made inserts, reads by _id and retirements 5 to 10 times cheaper
 * (measured with a 30 KB state). The states are plain JSON data (numbers, strings, arrays).
 */
export interface StoredVersion {
  _id: string;
  key: string;
  version: number;
  at: number;
  state?: string;
}

function stored<S>(doc: VersionDoc<S>): StoredVersion {
  return { _id: doc._id, key: doc.key, version: doc.version, at: doc.at, state: JSON.stringify(doc.state) };
}

/** Older versions stored the state as a document; both read the same. */
function decoded<S>(doc: StoredVersion | null): VersionDoc<S> | null {
  if (!doc) return null;
  const state: unknown = doc.state;
  return { _id: doc._id, key: doc.key, version: doc.version, at: doc.at, state: (typeof state === "string" ? JSON.parse(state) : state) as S };
}

async function appended(insert: () => Promise<void>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (error) {
    if (hasCode(error, "CONFLICT")) return false; // duplicate _id: that version is taken
    throw error;
  }
}

// Tenant names are [a-z0-9-] (protocol/headers); checked again here because the tenant is the
// first part of every `_id`: a scope with a slash could name another tenant's versions.
const TENANT = /^[a-z0-9-]+$/;

function requireTenant(tenant: string): string {
  if (!TENANT.test(tenant)) throw new MeshError("INTERNAL", "a tenant's version log was called without a valid tenant");
  return tenant;
}

/**
 * Versions of per-tenant records in a collection declared `tenantOwned: false`, so that reads
 * by `_id` stay exactly `{ _id }` (the tenant-owned view adds `tenant` to every filter, and
 * FerretDB then scans the collection). Tenant isolation holds by construction: every `_id`
 * is `<tenant>/<key>/<version>`, built here from the scope and nowhere else; every document
 * carries its `tenant` and the one query that is not by `_id` names it.
 */
export function tenantVersionLog<S>(collection: GlobalCollection<StoredVersion & { tenant: string }>): VersionLog<S> {
  const idOf = (tenant: string, key: string, version: number) => `${requireTenant(tenant)}/${key}/${version}`;
  return {
    versionId: idOf,
    latest: async (tenant, key) => decoded<S>((await collection.find({ tenant: requireTenant(tenant), key, ...live }, { sort: { version: -1 }, limit: 1 }))[0] ?? null),
    get: async (tenant, key, version) => decoded<S>(await collection.findOne({ _id: idOf(tenant, key, version) })),
    append: async (tenant, doc) => {
      if (doc._id !== idOf(tenant, doc.key, doc.version)) throw new MeshError("INTERNAL", "a version's _id must name its tenant, key and version");
      return appended(() => collection.insertOne({ ...stored(doc), tenant }));
    },
    retire: async (tenant, key, version) => {
      await collection.updateOne({ _id: idOf(tenant, key, version) }, { $unset: { state: "" } });
    },
    forget: async (tenant, key, before) => {
      await collection.deleteMany({ tenant: requireTenant(tenant), key, state: { $exists: false }, at: { $lt: before } });
    },
  };
}

/** Versions in a global collection (state shared by all tenants, such as provider health). */
export function globalVersionLog<S>(collection: GlobalCollection<StoredVersion>): VersionLog<S> {
  const idOf = (key: string, version: number) => `${key}/${version}`;
  return {
    versionId: (_scope, key, version) => idOf(key, version),
    latest: async (_scope, key) => decoded<S>((await collection.find({ key, ...live }, { sort: { version: -1 }, limit: 1 }))[0] ?? null),
    get: async (_scope, key, version) => decoded<S>(await collection.findOne({ _id: idOf(key, version) })),
    append: (_scope, doc) => appended(() => collection.insertOne(stored(doc))),
    retire: async (_scope, key, version) => {
      await collection.updateOne({ _id: idOf(key, version) }, { $unset: { state: "" } });
    },
    forget: async (_scope, key, before) => {
      await collection.deleteMany({ key, state: { $exists: false }, at: { $lt: before } });
    },
  };
}
