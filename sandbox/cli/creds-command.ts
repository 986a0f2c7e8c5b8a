import { join } from "node:path";
import { ROLES, type Role } from "../../protocol/roles.ts";
import { addService, addTenant, CredsError, revokeUser, rotateUser } from "../creds/creds-operations.ts";
import type { IssuedCredentials } from "../creds/issue-credentials.ts";
import { issueMeshCredentials } from "../creds/mesh-credentials.ts";
import { actors } from "../../actors/index.ts";
import { issueMongoUsers } from "../creds/mongo-users.ts";
import { CliError, type CliIo } from "./cli-io.ts";

export type CredsAction =
  | { readonly kind: "issue" }
  | { readonly kind: "add-service"; readonly name: string; readonly calls: readonly string[]; readonly roles: readonly string[]; readonly expiresInDays?: number }
  | { readonly kind: "add-tenant"; readonly tenant: string }
  | { readonly kind: "rotate"; readonly user: string }
  | { readonly kind: "revoke"; readonly user: string };

/** The credentials folder: --dir, else MESHWORK_CREDS_DIR, else the checkout's .meshwork/creds. */
export function credsDir(io: CliIo, dir?: string): string {
  return dir ?? (io.env.MESHWORK_CREDS_DIR || join(io.root, ".meshwork", "creds"));
}

function checkedRoles(roles: readonly string[]): Role[] {
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) throw new CliError(`unknown role ${unknown.join(", ")} (roles: ${ROLES.join(", ")})`, 2);
  return roles as Role[];
}

function run(dir: string, action: CredsAction): Promise<IssuedCredentials> {
  switch (action.kind) {
    case "issue": return issueMeshCredentials(dir);
    case "add-service": {
      const days = action.expiresInDays;
      if (days !== undefined && !(Number.isInteger(days) && days > 0)) throw new CliError("--expires-in-days takes a whole number of days", 2);
      const expiresAt = days === undefined ? undefined : Math.floor(Date.now() / 1000) + days * 86_400;
      return addService(dir, action.name, { calls: action.calls, roles: checkedRoles(action.roles), ...(expiresAt ? { expiresAt } : {}) });
    }
    case "add-tenant": return addTenant(dir, action.tenant);
    case "rotate": return rotateUser(dir, action.user);
    case "revoke": return revokeUser(dir, action.user);
  }
}

/** `mesh creds ...`: (re)issues the mesh's NATS credentials and prints where they are. */
export async function credsCommand(io: CliIo, action: CredsAction, dir?: string): Promise<number> {
  const folder = credsDir(io, dir);
  let issued: IssuedCredentials;
  try {
    issued = await run(folder, action);
    issueMongoUsers(folder, Object.keys(actors));
  } catch (error) {
    if (error instanceof CredsError) throw new CliError(error.message, 2);
    throw error;
  }
  io.out(`credentials in ${issued.dir}\n`);
  for (const [user, file] of Object.entries(issued.credsFiles)) io.out(`  ${user.padEnd(24)} ${file}\n`);
  io.out(`server auth config: ${issued.serverAuthFile} (a running nats-server applies it on reload: nats-server --signal reload)\n`);
  io.out(`MongoDB users for compose.yaml: ${folder}/mongo-init.js, mongo-<actor>.env\n`);
  return 0;
}
