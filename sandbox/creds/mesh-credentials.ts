/**
 * The credentials a run of the mesh uses: the actors from `actors/index.ts`, the grants kept in
 * `<dir>/grants.json`, and the demo callers every local mesh has (a trusted service
 * `demo-service` and a tenant-scoped caller of `acme`), so the README's examples work anywhere.
 */
import { join } from "node:path";
import { actorNames, loadActor } from "../../actors/index.ts";
import type { ActorDefinition } from "../../runtime/index.ts";
import { GRANTS_FILE, readGrants, writeGrants, type Grants } from "./grants.ts";
import { issueCredentials, type IssuedCredentials } from "./issue-credentials.ts";

export const DEMO_SERVICE = "demo-service";
export const DEMO_TENANT = "acme";

/** Every actor's definition (loads every actor: for the tools that derive from all of them). */
export async function meshDefinitions(): Promise<Record<string, ActorDefinition>> {
  return Object.fromEntries(await Promise.all(actorNames.map(async (name) => [name, (await loadActor(name))!] as const)));
}

/** The demo grants merged into `grants`: a service calling tenants, llm and usage; tenant acme. */
export function withDemoGrants(grants: Grants): Grants {
  return {
    ...grants,
    services: { [DEMO_SERVICE]: { calls: ["tenants", "llm", "usage"], roles: [] }, ...grants.services },
    tenants: grants.tenants.includes(DEMO_TENANT) ? grants.tenants : [...grants.tenants, DEMO_TENANT],
  };
}

/** Issues (or re-issues, keeping keys) the mesh's credentials into `dir`, with the demo grants added. */
export async function issueMeshCredentials(dir: string, extra: (grants: Grants) => Grants = (grants) => grants): Promise<IssuedCredentials> {
  const file = join(dir, GRANTS_FILE);
  const grants = extra(withDemoGrants(readGrants(file)));
  const issued = await issueCredentials(dir, await meshDefinitions(), grants);
  writeGrants(file, grants);
  return issued;
}
