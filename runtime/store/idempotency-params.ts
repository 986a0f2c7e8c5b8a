import { ErrorBody } from "../../protocol/errors.ts";
import { MeshError } from "../errors.ts";
import type { IdempotentReply } from "./idempotency.ts";

export interface KeyedParams {
  /** "" for tenantless requests. */
  readonly tenant: string;
  /** What the key is unique within, e.g. the request subject. */
  readonly scope: string;
  /** The caller's idempotency key. */
  readonly key: string;
}

export interface ClaimParams extends KeyedParams {
  /** A hash of the request: the same key with another request is a conflict, not a replay. */
  readonly requestHash: string;
  /** How long the claim is held before another replica may take it over. */
  readonly lockMs: number;
  /** How long the stored reply is kept. */
  readonly ttlMs: number;
}

export interface OwnedParams extends KeyedParams {
  readonly token: string;
}

const MAX_KEY_LENGTH = 256;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** The key comes from the caller: a bad one is the caller's fault. Everything else is ours. */
export function checkKeyed(params: KeyedParams): KeyedParams & { id: string } {
  const { tenant, scope, key } = params ?? {};
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH || CONTROL_CHARACTERS.test(key)) {
    throw new MeshError("BAD_REQUEST", `idempotency key must be 1 to ${MAX_KEY_LENGTH} printable characters`);
  }
  if (typeof tenant !== "string") throw new MeshError("INTERNAL", "idempotency tenant must be a string");
  if (typeof scope !== "string" || scope.length === 0) throw new MeshError("INTERNAL", "idempotency scope must be a non-empty string");
  // JSON keeps the three parts apart whatever characters they contain.
  return { tenant, scope, key, id: JSON.stringify([tenant, scope, key]) };
}

export function checkClaim(params: ClaimParams): ClaimParams & { id: string } {
  const keyed = checkKeyed(params);
  const { requestHash, lockMs, ttlMs } = params;
  if (typeof requestHash !== "string" || requestHash.length === 0) throw new MeshError("INTERNAL", "idempotency requestHash must be a non-empty string");
  if (!isPositive(lockMs)) throw new MeshError("INTERNAL", "idempotency lockMs must be a positive number");
  if (!isPositive(ttlMs)) throw new MeshError("INTERNAL", "idempotency ttlMs must be a positive number");
  return { ...keyed, requestHash, lockMs, ttlMs };
}

export function checkOwned(params: OwnedParams): OwnedParams & { id: string } {
  const keyed = checkKeyed(params);
  if (typeof params.token !== "string" || params.token.length === 0) throw new MeshError("INTERNAL", "idempotency token must be a non-empty string");
  return { ...keyed, token: params.token };
}

export function checkReply(reply: unknown): IdempotentReply {
  if (typeof reply === "object" && reply !== null) {
    const candidate = reply as { ok?: unknown; data?: unknown; error?: unknown };
    if (candidate.ok === true) return { ok: true, data: candidate.data };
    if (candidate.ok === false) {
      const error = ErrorBody.safeParse(candidate.error);
      if (error.success) return { ok: false, error: error.data };
    }
  }
  throw new MeshError("INTERNAL", "an idempotent reply must be { ok: true, data } or { ok: false, error }");
}

function isPositive(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}
