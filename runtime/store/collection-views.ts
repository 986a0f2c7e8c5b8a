import type { Collection, Document, Filter } from "mongodb";
import type { GlobalCollection, TenantCollection } from "../types.ts";
import { MeshError } from "../errors.ts";
import type { DatabaseBreaker } from "./database-breaker.ts";
import { tenantIdPrefix } from "./tenant-keys.ts";
import { createKeyedOperations } from "./keyed-operations.ts";
import {
  narrowFilter, readLimit, requireExpiryOnUpsert, requireObject, requireTenant, requireTenantKeptBy, scopedPipeline, tenantFilter, unexpired,
} from "./scoping.ts";

interface ViewParts {
  readonly name: string;
  readonly raw: Collection<Document>;
  readonly breaker: DatabaseBreaker;
  readonly expires: boolean;
}

/**
 * The tenant-owned view: the keyed API (point reads and writes by `_id = <tenant>/<key>`) at the
 * top, filter-based calls under `scan`. `tenant` is validated, added to every filter and stamped
 * on every inserted record.
 */
export function createTenantCollection<T extends Document>(parts: ViewParts): TenantCollection<T> {
  const operations = scopedOperations(parts);
  const scoped = <A extends unknown[], R>(run: (tenant: string, ...args: A) => Promise<R>) =>
    async (tenant: string, ...args: A): Promise<R> => run(requireTenant(tenant), ...args);
  const scan = Object.freeze({
    findOne: scoped(operations.findOne),
    find: scoped(operations.find),
    countDocuments: scoped(operations.countDocuments),
    aggregate: scoped(operations.aggregate),
    findOneAndUpdate: scoped(operations.findOneAndUpdate),
    updateOne: scoped(operations.updateOne),
    deleteOne: scoped(operations.deleteOne),
    deleteMany: scoped(operations.deleteMany),
  });
  return Object.freeze({
    name: parts.name,
    ...createKeyedOperations(parts),
    insertOne: scoped(operations.insertOne),
    scan,
  }) as unknown as TenantCollection<T>;
}

/** The view of a collection declared `tenantOwned: false`: the same calls without a tenant. */
export function createGlobalCollection<T extends Document>(parts: ViewParts): GlobalCollection<T> {
  const operations = scopedOperations(parts);
  const global = <A extends unknown[], R>(run: (tenant: undefined, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => run(undefined, ...args);
  return Object.freeze({
    name: parts.name,
    findOne: global(operations.findOne),
    findById: global(operations.findById),
    find: global(operations.find),
    insertOne: global(operations.insertOne),
    findOneAndUpdate: global(operations.findOneAndUpdate),
    updateOne: global(operations.updateOne),
    deleteOne: global(operations.deleteOne),
    deleteMany: global(operations.deleteMany),
    countDocuments: global(operations.countDocuments),
    aggregate: global(operations.aggregate),
  }) as unknown as GlobalCollection<T>;
}

type Tenant = string | undefined;
type UpdateOptions = { upsert?: boolean } | undefined;

function scopedOperations({ raw, breaker, expires }: ViewParts) {
  const writeFilter = (tenant: Tenant, filter: unknown): Filter<Document> =>
    tenant === undefined ? requireObject(filter, "filter") : tenantFilter(filter, tenant);
  // Expired records are invisible to reads before the sweeper (or a TTL index) removes them.
  const readFilter = (tenant: Tenant, filter: unknown): Filter<Document> =>
    expires ? narrowFilter(writeFilter(tenant, filter), unexpired()) : writeFilter(tenant, filter);
  const readScope = (tenant: Tenant): Document => ({
    ...(tenant === undefined ? {} : { tenant }),
    ...(expires ? unexpired() : {}),
  });
  const checkedUpdate = (tenant: Tenant, update: unknown, options: UpdateOptions): Document => {
    const operators = tenant === undefined ? requireObject(update, "update") : requireTenantKeptBy(update, tenant);
    if (expires && options?.upsert === true) requireExpiryOnUpsert(operators);
    return operators;
  };
  const recordToInsert = (tenant: Tenant, doc: unknown): Document => {
    const record = { ...requireObject(doc, "document") };
    if (tenant !== undefined) {
      if ("tenant" in record && record.tenant !== tenant) throw new MeshError("INTERNAL", "a store document named a different tenant");
      // A string _id lives in the tenant's own id space, so a keyed call of another tenant never meets it.
      if (typeof record._id === "string" && !record._id.startsWith(tenantIdPrefix(tenant))) {
        throw new MeshError("INTERNAL", "a string _id of a tenant-owned record must start with \"<tenant>/\"");
      }
      record.tenant = tenant;
    }
    if (expires && !(record.expiresAt instanceof Date)) {
      throw new MeshError("INTERNAL", "documents of an expiring collection need expiresAt as a Date");
    }
    return record;
  };

  return {
    findOne: (tenant: Tenant, filter: unknown) => {
      const query = readFilter(tenant, filter);
      return breaker.run(() => raw.findOne(query));
    },
    // Global collections only (tenant-owned ones have the keyed API): exactly `{_id}` goes to
    // the server, the one filter FerretDB serves from an index; an expired record is "not found".
    findById: async (_tenant: undefined, id: unknown) => {
      if (typeof id !== "string" || id.length === 0) throw new MeshError("INTERNAL", "findById needs a non-empty string id");
      const doc = await breaker.run(() => raw.findOne({ _id: id } as unknown as Filter<Document>));
      if (!doc) return null;
      if (expires && !(doc.expiresAt instanceof Date && doc.expiresAt.getTime() > Date.now())) return null;
      return doc;
    },
    find: (tenant: Tenant, filter: unknown, options?: { sort?: Document; limit?: number }) => {
      const query = readFilter(tenant, filter);
      const limit = readLimit(options?.limit);
      const sort = options?.sort === undefined ? undefined : requireObject(options.sort, "sort");
      return breaker.run(() => {
        let cursor = raw.find(query);
        if (sort !== undefined) cursor = cursor.sort(sort);
        if (limit !== undefined) cursor = cursor.limit(limit);
        return cursor.toArray();
      });
    },
    insertOne: async (tenant: Tenant, doc: unknown): Promise<void> => {
      const record = recordToInsert(tenant, doc);
      await breaker.run(() => raw.insertOne(record));
    },
    findOneAndUpdate: (tenant: Tenant, filter: unknown, update: unknown, options?: { upsert?: boolean }) => {
      const query = writeFilter(tenant, filter);
      const operators = checkedUpdate(tenant, update, options);
      return breaker.run(() => raw.findOneAndUpdate(query, operators, {
        upsert: options?.upsert === true, returnDocument: "after", includeResultMetadata: false,
      }));
    },
    updateOne: async (tenant: Tenant, filter: unknown, update: unknown, options?: { upsert?: boolean }) => {
      const query = writeFilter(tenant, filter);
      const operators = checkedUpdate(tenant, update, options);
      const result = await breaker.run(() => raw.updateOne(query, operators, { upsert: options?.upsert === true }));
      return { matched: result.matchedCount, modified: result.modifiedCount, upserted: result.upsertedCount > 0 };
    },
    deleteOne: async (tenant: Tenant, filter: unknown) => {
      const query = writeFilter(tenant, filter);
      return (await breaker.run(() => raw.deleteOne(query))).deletedCount;
    },
    deleteMany: async (tenant: Tenant, filter: unknown) => {
      const query = writeFilter(tenant, filter);
      return (await breaker.run(() => raw.deleteMany(query))).deletedCount;
    },
    countDocuments: (tenant: Tenant, filter: unknown) => {
      const query = readFilter(tenant, filter);
      return breaker.run(() => raw.countDocuments(query));
    },
    aggregate: (tenant: Tenant, pipeline: unknown) => {
      const stages = scopedPipeline(pipeline, readScope(tenant));
      return breaker.run(() => raw.aggregate(stages).toArray());
    },
  };
}
