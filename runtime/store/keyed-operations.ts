import type { Collection, Document, Filter } from "mongodb";
import { MeshError } from "../errors.ts";
import type { DatabaseBreaker } from "./database-breaker.ts";
import { isDuplicateKeyError } from "./database-errors.ts";
import { requireObject } from "./scoping.ts";
import { MAX_GET_MANY_KEYS, MAX_INSERT_MANY_ENTRIES, requireTenantId, tenantKey } from "./tenant-keys.ts";

interface KeyedParts {
  readonly raw: Collection<Document>;
  readonly breaker: DatabaseBreaker;
  readonly expires: boolean;
}

/**
 * The keyed API of a tenant-owned collection: every call reaches the server as exactly
 * `{ _id: "<tenant>/<key>" }` (or an insert of such ids), the one shape FerretDB serves from an
 * index and MongoDB from `_id`'s. Tenant and key are checked before any database call.
 */
export function createKeyedOperations({ raw, breaker, expires }: KeyedParts) {
  const byId = (id: string) => ({ _id: id }) as unknown as Filter<Document>;
  const visible = (tenant: string, doc: Document | null): Document | null => {
    if (doc === null || doc.tenant !== tenant) return null;
    if (expires && !(doc.expiresAt instanceof Date && doc.expiresAt.getTime() > Date.now())) return null;
    return doc;
  };
  const record = (tenant: string, key: string, doc: unknown): Document => {
    const id = tenantKey(tenant, key);
    const given = requireObject(doc, "document");
    if ("_id" in given && given._id !== id) throw new MeshError("INTERNAL", "a keyed store document may not carry an _id of its own");
    if ("tenant" in given && given.tenant !== tenant) throw new MeshError("INTERNAL", "a store document named a different tenant");
    if (expires && !(given.expiresAt instanceof Date)) {
      throw new MeshError("INTERNAL", "documents of an expiring collection need expiresAt as a Date");
    }
    return { ...given, _id: id, tenant };
  };
  const get = async (tenant: string, key: string): Promise<Document | null> => {
    const id = tenantKey(tenant, key);
    return visible(tenant, await breaker.run(() => raw.findOne(byId(id))));
  };

  return {
    get,
    getMany: async (tenant: string, keys: readonly string[]): Promise<(Document | null)[]> => {
      if (!Array.isArray(keys) || keys.length > MAX_GET_MANY_KEYS) {
        throw new MeshError("INTERNAL", `getMany takes an array of at most ${MAX_GET_MANY_KEYS} keys`);
      }
      keys.forEach((key) => tenantKey(tenant, key)); // every key checked before the first read
      return Promise.all(keys.map((key) => get(tenant, key)));
    },
    insert: async (tenant: string, key: string, doc: unknown): Promise<void> => {
      const stored = record(tenant, key, doc);
      await breaker.run(() => raw.insertOne(stored));
    },
    insertMany: async (tenant: string, entries: readonly { key: string; doc: unknown }[]): Promise<{ inserted: string[]; duplicates: string[] }> => {
      if (!Array.isArray(entries) || entries.length > MAX_INSERT_MANY_ENTRIES) {
        throw new MeshError("INTERNAL", `insertMany takes an array of at most ${MAX_INSERT_MANY_ENTRIES} entries`);
      }
      requireTenantId(tenant);
      const records = entries.map((entry) => record(tenant, requireObject(entry, "entry").key, entry.doc));
      if (records.length === 0) return { inserted: [], duplicates: [] };
      const refused = await breaker.run(() => insertUnordered(raw, records));
      return {
        inserted: entries.filter((_, index) => !refused.has(index)).map((entry) => entry.key),
        duplicates: entries.filter((_, index) => refused.has(index)).map((entry) => entry.key),
      };
    },
    put: async (tenant: string, key: string, doc: unknown): Promise<void> => {
      const stored = record(tenant, key, doc);
      await breaker.run(() => raw.replaceOne(byId(stored._id as string), stored, { upsert: true }));
    },
    remove: async (tenant: string, key: string): Promise<boolean> => {
      const id = tenantKey(tenant, key);
      return (await breaker.run(() => raw.deleteOne(byId(id)))).deletedCount === 1;
    },
  };
}

/**
 * One unordered insertMany; returns the indexes refused for a duplicate `_id`. Any other write
 * error is thrown (the breaker turns it into a MeshError).
 */
async function insertUnordered(raw: Collection<Document>, records: Document[]): Promise<Set<number>> {
  try {
    await raw.insertMany(records, { ordered: false });
    return new Set();
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors];
    const onlyDuplicates = list.length > 0 && list.every((writeError: { index?: unknown }) =>
      isDuplicateKeyError(writeError) && typeof writeError.index === "number");
    if (!onlyDuplicates) throw error;
    return new Set(list.map((writeError: { index: number }) => writeError.index));
  }
}
