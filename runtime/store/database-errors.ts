import { MongoError, MongoNetworkError } from "mongodb";
import { isMeshError, MeshError } from "../errors.ts";

// Checked by name as well as by class so that a second copy of the driver still agrees.
const CONNECTIVITY_ERROR_NAMES: ReadonlySet<string> = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoTopologyClosedError",
  "MongoClientClosedError",
  "MongoNotConnectedError",
  "MongoServerClosedError",
  "MongoOperationTimeoutError",
  "MongoPoolClearedError",
  "PoolClearedOnNetworkError",
  "MongoPoolClosedError",
  "MongoWaitQueueTimeoutError",
]);

// Server replies that mean "this server cannot serve you right now", not "your request is wrong".
const CONNECTIVITY_SERVER_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

const DUPLICATE_KEY_CODES: ReadonlySet<unknown> = new Set([11000, 11001]);

/** The database could not be reached (or answered that it cannot serve): counts against the breaker. */
export function isConnectivityError(error: unknown): boolean {
  if (error instanceof MongoNetworkError) return true;
  if (!(error instanceof Error)) return false;
  if (CONNECTIVITY_ERROR_NAMES.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  return error instanceof MongoError && typeof code === "number" && CONNECTIVITY_SERVER_CODES.has(code);
}

/**
 * A unique index refused a write: the raw driver error, or the CONFLICT MeshError the store
 * made of it (so callers can tell it from other conflicts).
 */
export function isDuplicateKeyError(error: unknown): boolean {
  if (isMeshError(error)) return error.code === "CONFLICT" && isDuplicateKeyError(error.cause);
  if (typeof error !== "object" || error === null) return false;
  const { code, writeErrors } = error as { code?: unknown; writeErrors?: unknown };
  if (DUPLICATE_KEY_CODES.has(code)) return true;
  return Array.isArray(writeErrors) && writeErrors.some((writeError: { code?: unknown }) => DUPLICATE_KEY_CODES.has(writeError?.code));
}

/** The one place a database failure becomes a mesh error; the driver error stays as `cause`. */
export function toStoreError(error: unknown, retryAfterMs?: number): MeshError {
  if (isMeshError(error)) return error;
  if (isConnectivityError(error)) {
    return new MeshError("UNAVAILABLE", "database unavailable", retryAfterMs === undefined ? { cause: error } : { cause: error, retryAfterMs });
  }
  if (isDuplicateKeyError(error)) return new MeshError("CONFLICT", "a record with this key already exists", { cause: error });
  return new MeshError("INTERNAL", "database error", { cause: error });
}
