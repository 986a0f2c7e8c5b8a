import { createHash, randomBytes } from "node:crypto";
import type { ApiKeyInfo, CreatedApiKey } from "../../protocol/gateway.ts";
import { MeshError, type ActorStore } from "../../runtime/index.ts";

export const API_KEYS = "api_keys";

/** One stored key: `_id` is the SHA-256 (hex) of the whole key; the key itself is never stored. */
export interface StoredKey {
  _id: string;
  tenant: string;
  prefix: string;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/**
 * A new key: `mw_` + 8 characters (the prefix operators see) + `_` + 32 random bytes in
 * base64url (256 bits). With that much entropy a single unsalted SHA-256 is enough: the hash
 * cannot be reversed by guessing, and a lookup is one point read by `_id` (a slow password hash
 * such as bcrypt would protect low-entropy secrets, and cost every request a CPU-bound step).
 */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = `mw_${Array.from(randomBytes(8), (byte) => PREFIX_ALPHABET[byte % PREFIX_ALPHABET.length]).join("")}`;
  const key = `${prefix}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A bearer token shaped like our keys; anything else is refused before any database read. */
export function looksLikeApiKey(token: string): boolean {
  return /^mw_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/.test(token);
}

function info(doc: StoredKey): ApiKeyInfo {
  return { prefix: doc.prefix, label: doc.label, createdAt: doc.createdAt.toISOString(), revokedAt: doc.revokedAt?.toISOString() ?? null };
}

/** The gateway's key records, in its own database. */
export function apiKeys(store: ActorStore) {
  const keys = store.globalCollection<StoredKey>(API_KEYS);
  return {
    async create(tenant: string, label: string): Promise<CreatedApiKey> {
      const fresh = newApiKey();
      const doc: StoredKey = { _id: fresh.hash, tenant, prefix: fresh.prefix, label, createdAt: new Date(), revokedAt: null };
      await keys.insertOne(doc);
      return { ...info(doc), key: fresh.key };
    },
    /** Operator listing: a scan filtered by tenant (not a per-request path). */
    async list(tenant: string): Promise<ApiKeyInfo[]> {
      const found = await keys.find({ tenant }, { sort: { createdAt: -1 } });
      return found.map(info);
    },
    async revoke(tenant: string, prefix: string): Promise<ApiKeyInfo & { label: string }> {
      const doc = await keys.findOne({ tenant, prefix });
      if (!doc) throw new MeshError("NOT_FOUND", `tenant has no key ${prefix}`);
      if (doc.revokedAt) return info(doc);
      const revokedAt = new Date();
      await keys.updateOne({ _id: doc._id }, { $set: { revokedAt } });
      return info({ ...doc, revokedAt });
    },
    /** The tenant a key belongs to, or undefined for an unknown or revoked key (one point read by `_id`). */
    async tenantOf(key: string): Promise<string | undefined> {
      const doc = await keys.findById(hashApiKey(key));
      return doc && !doc.revokedAt ? doc.tenant : undefined;
    },
  };
}
export type ApiKeys = ReturnType<typeof apiKeys>;
