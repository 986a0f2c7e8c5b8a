import { MongoClient, type MongoClientOptions } from "mongodb";
import { MeshError } from "../errors.ts";

/**
 * Short timeouts so that an unreachable database fails a call within about 1.5 s instead of
 * the driver's 30 s default: callers have deadlines, and the circuit breaker needs failures
 * quickly to open. `overrides` exists for tests and unusual deployments.
 */
export const FAIL_FAST_CLIENT_OPTIONS: Readonly<MongoClientOptions> = Object.freeze({
  serverSelectionTimeoutMS: 1500,
  connectTimeoutMS: 1500,
  socketTimeoutMS: 10_000,
  appName: "meshwork",
});

export function createMongoClient(url: string, overrides: MongoClientOptions = {}): MongoClient {
  return new MongoClient(url, { ...FAIL_FAST_CLIENT_OPTIONS, ...overrides });
}

// The intersection of what MongoDB and FerretDB accept, kept strict so a name never needs quoting.
const DATABASE_NAME = /^[A-Za-z0-9_]{1,63}$/;

/** `${prefix}_${actor}` (or just the actor), dashes as underscores; throws on anything else illegal. */
export function databaseNameFor(actor: string, prefix?: string): string {
  if (typeof actor !== "string" || actor.length === 0) {
    throw new MeshError("INTERNAL", "an actor name is required to derive its database name");
  }
  if (prefix !== undefined && (typeof prefix !== "string" || prefix.length === 0)) {
    throw new MeshError("INTERNAL", "a database prefix must be a non-empty string when given");
  }
  const name = (prefix === undefined ? actor : `${prefix}_${actor}`).replaceAll("-", "_");
  if (!DATABASE_NAME.test(name)) {
    throw new MeshError("INTERNAL", `illegal database name derived from actor "${actor}": use letters, digits, "-" or "_", at most 63 characters`);
  }
  return name;
}
