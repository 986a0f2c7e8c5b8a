import { scaffoldActor, ScaffoldError } from "../scaffold/scaffold.ts";
import { loadDefinitions, writeDocs } from "../docs/generated-docs.ts";
import { CliError, type CliIo } from "./cli-io.ts";

/** `mesh new <actor>`: scaffolds a conforming actor and registers it. */
export async function newCommand(io: CliIo, name: string): Promise<number> {
  try {
    const result = await scaffoldActor(io.root, name);
    // The generated catalogue and AsyncAPI document list the new actor at once (`mesh check` compares them).
    const docs = await writeDocs(io.root, await loadDefinitions(io.root));
    io.out([
      `created actor ${name}:`,
      ...result.created.map((file) => `  + ${file}`),
      ...[...result.updated, ...docs].map((file) => `  ~ ${file}`),
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
