import { loadDefinitions, writeDocs } from "../docs/generated-docs.ts";
import { CliError, type CliIo } from "./cli-io.ts";

/** `mesh docs`: writes the AsyncAPI document and the actor catalogue from the definitions; writes nothing when one fails to load. */
export async function docsCommand(io: CliIo): Promise<number> {
  const definitions = await loadDefinitions(io.root).catch((error: unknown) => {
    throw new CliError(`mesh docs: ${error instanceof Error ? error.message : String(error)}; nothing written`, 1);
  });
  const written = await writeDocs(io.root, definitions);
  io.out(`wrote ${written.join(", ")}\n`);
  return 0;
}
