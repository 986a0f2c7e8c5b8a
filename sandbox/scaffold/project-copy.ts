/** Test support: a throw-away copy of the checkout, so tests can scaffold and break actors freely. */
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { actors } from "../../actors/index.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";

export interface ProjectCopyOptions {
  /** Top-level folders besides actors/ (default protocol and runtime). */
  readonly folders?: readonly string[];
}

/**
 * Copies actors/ (only the actors registered in actors/index.ts, so work in progress in the
 * checkout does not leak in), the given folders, package.json and tsconfig.json into a temporary
 * directory with node_modules symlinked. Removed by an `after` hook: call at a test file's top level.
 */
export async function useProjectCopy(options: ProjectCopyOptions = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "meshwork-copy-"));
  after(() => rm(root, { recursive: true, force: true }));
  // deploy/kubernetes/actors.yaml is generated from the actors, and mesh check compares it.
  for (const file of ["actors/index.ts", "actors/main.ts", "package.json", "tsconfig.json", "deploy/kubernetes/actors.yaml"]) {
    await cp(join(CHECKOUT_ROOT, file), join(root, file), { recursive: true });
  }
  for (const actor of Object.keys(actors)) {
    await cp(join(CHECKOUT_ROOT, "actors", actor), join(root, "actors", actor), { recursive: true });
  }
  for (const folder of options.folders ?? ["protocol", "runtime"]) {
    await cp(join(CHECKOUT_ROOT, folder), join(root, folder), { recursive: true });
  }
  await symlink(join(CHECKOUT_ROOT, "node_modules"), join(root, "node_modules"));
  return root;
}
