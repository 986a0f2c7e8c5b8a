import { scaffoldActor, ScaffoldError } from "../scaffold/scaffold.ts";
import { CliError, type CliIo } from "./cli-io.ts";

/** `mesh new <actor>`: scaffolds a conforming actor and registers it. */
export async function newCommand(io: CliIo, name: string): Promise<number> {
  try {
    const result = await scaffoldActor(io.root, name);
    io.out([
      `created actor ${name}:`,
      ...result.created.map((file) => `  + ${file}`),
      ...result.updated.map((file) => `  ~ ${file}`),
      "",
      "next:",
      `  npx tsx sandbox/test-run.ts actors/${name}     # its test, against real servers`,
      "  npx mesh check                                 # the template's rules",
      `  make sandbox                                   # runs it with two replicas; then: npx mesh req ${name}.get '{"id":"x"}' --tenant acme`,
      "",
    ].join("\n"));
    return 0;
  } catch (error) {
    if (error instanceof ScaffoldError) throw new CliError(`mesh new: ${error.message}`, 1);
    throw error;
  }
}
