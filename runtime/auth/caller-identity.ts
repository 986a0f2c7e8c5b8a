/**
 * Who sent a request, as the NATS server vouches for it. A request that crosses an account
 * import carries `Nats-Request-Info`, which the server sets itself (a client's own copy of the
 * header is removed on the way), with the caller's user name and tags from its signed JWT.
 * Requests from inside the mesh account carry none: actors and the operator are trusted.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import { REQUEST_INFO_HEADER } from "../../protocol/roles.ts";
import { MeshError } from "../errors.ts";

export type CallerIdentity =
  /** An actor or the operator, in the mesh's own account. */
  | { readonly kind: "mesh" }
  /** A trusted service user (services account): may act for any tenant. */
  | { readonly kind: "service"; readonly name: string }
  /** A tenant-scoped user: may act only as its tenant. */
  | { readonly kind: "tenant"; readonly name: string; readonly tenant: string };

export const MESH_CALLER: CallerIdentity = Object.freeze({ kind: "mesh" });

/** Tags `mesh creds` signs into user JWTs (lower case: NATS tags are case-insensitive). */
export const IDENTITY_TAGS = { service: "mw-service:", tenant: "mw-tenant:" } as const;

interface RequestInfo {
  readonly name_tag?: unknown;
  readonly tags?: unknown;
}

function tagValue(tags: readonly string[], prefix: string): string | undefined {
  return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
}

/** The caller's identity; a request from another account without a known identity is FORBIDDEN. */
export function callerIdentity(headers: MsgHdrs | undefined): CallerIdentity {
  return callerIdentityFromInfo(headers?.get(REQUEST_INFO_HEADER));
}

/** The same from the header's value (exactly `Nats-Request-Info`, the spelling the server sets). */
export function callerIdentityFromInfo(raw: string | undefined): CallerIdentity {
  if (!raw) return MESH_CALLER;
  let info: RequestInfo;
  try {
    info = JSON.parse(raw) as RequestInfo;
  } catch {
    throw new MeshError("FORBIDDEN", "caller identity unreadable");
  }
  const tags = Array.isArray(info.tags) ? info.tags.filter((tag): tag is string => typeof tag === "string") : [];
  const name = typeof info.name_tag === "string" ? info.name_tag : "";
  const tenant = tagValue(tags, IDENTITY_TAGS.tenant);
  if (tenant && name) return { kind: "tenant", name, tenant };
  const service = tagValue(tags, IDENTITY_TAGS.service);
  if (service && name === service) return { kind: "service", name };
  throw new MeshError("FORBIDDEN", "caller has no mesh identity");
}

/** A tenant-scoped caller acts only as its own tenant (a missing tenant header is no exception). */
export function assertMayActFor(caller: CallerIdentity, tenant: string): void {
  if (caller.kind === "tenant" && caller.tenant !== tenant) {
    throw new MeshError("FORBIDDEN", tenant ? `caller may act only for tenant ${caller.tenant}` : "a tenant-scoped caller must name its tenant");
  }
}

/** A stable key for ownership records (who took a lease). */
export function ownerKey(caller: CallerIdentity): string {
  switch (caller.kind) {
    case "mesh": return "mesh";
    case "service": return `service:${caller.name}`;
    case "tenant": return `tenant:${caller.tenant}:${caller.name}`;
  }
}
