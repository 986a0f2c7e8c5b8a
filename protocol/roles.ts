/**
 * Roles that privileged request subjects require (`RequestContract.role`). A caller's NATS user
 * is granted a role's subjects only when its actor definition or its service grant names the
 * role; the operator user holds every role.
 * - `tenant-admin`: writes tenant policy (`tenants.put`);
 * - `lease-holder`: takes, settles and releases AI-capacity leases (the lease client's owner;
 *   a lease settles or releases only for the caller that took it);
 * - `provider-signals`: reports provider degradation that cools a model down for every tenant.
 */
export const ROLES = ["tenant-admin", "lease-holder", "provider-signals"] as const;
export type Role = (typeof ROLES)[number];

/** The header nats-server sets on a request that crossed an account import (JSON client info). */
export const REQUEST_INFO_HEADER = "Nats-Request-Info";
