import { z } from "zod";
import { defineContract } from "./contract.ts";

/** What an operator sees of a key: never the key, only its prefix (the first 11 characters). */
export const ApiKeyInfo = z.object({
  prefix: z.string(),
  label: z.string(),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
});
export type ApiKeyInfo = z.output<typeof ApiKeyInfo>;

/** A new key, shown once: only its SHA-256 is stored. */
export const CreatedApiKey = ApiKeyInfo.extend({ key: z.string() });
export type CreatedApiKey = z.output<typeof CreatedApiKey>;

const KeyPrefix = z.string().regex(/^mw_[A-Za-z0-9]{8}$/, "a key prefix: mw_ and 8 letters or digits");
const Label = z.string().min(1).max(100).default("default");

/**
 * The HTTP edge. Its NATS requests are the operator's key administration for the tenant in
 * `Mw-Tenant` (role `tenant-admin`); tenants reach the mesh over HTTP with those keys.
 */
export const gatewayContract = defineContract({
  actor: "gateway",
  requests: {
    /** A new API key for the tenant; the answer is the only place the key is ever shown. */
    createKey: { subject: "gateway.create-key", input: z.strictObject({ label: Label }), output: CreatedApiKey, mutating: true, role: "tenant-admin" },
    /** The tenant's keys, prefixes only, newest first. */
    listKeys: { subject: "gateway.list-keys", input: z.strictObject({}), output: z.object({ keys: z.array(ApiKeyInfo) }), role: "tenant-admin" },
    /** Revokes a key by its prefix; the gateway refuses it within its key cache's lifetime. NOT_FOUND if no such key. */
    revokeKey: { subject: "gateway.revoke-key", input: z.strictObject({ prefix: KeyPrefix }), output: ApiKeyInfo, mutating: true, role: "tenant-admin" },
    /** A new key with the old one's label, and the old one revoked. */
    rotateKey: { subject: "gateway.rotate-key", input: z.strictObject({ prefix: KeyPrefix }), output: CreatedApiKey, mutating: true, role: "tenant-admin" },
  },
  events: {},
});
