import { checkProject } from "../check/check-project.ts";
import type { CliIo } from "./cli-io.ts";

/** `mesh check`: every violation of the actor template on its own line, exit 1; or exit 0. */
export async function checkCommand(io: CliIo): Promise<number> {
  const result = await checkProject(io.root);
  if (result.violations.length === 0) {
    io.out(`all ${result.actors.length} actors conform (${result.actors.join(", ")})\n`);
    return 0;
  }
  io.err(`${result.violations.join("\n")}\n`);
  io.err(`mesh check: ${result.violations.length} violation${result.violations.length === 1 ? "" : "s"} in ${result.actors.length} actors (the template: actors/tenants and sandbox/README.md)\n`);
  return 1;
}
