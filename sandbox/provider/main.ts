/**
 * Runs the test provider as a process: `tsx sandbox/provider/main.ts [--port N] [--host H] [--models a,b]`.
 * Prints one JSON line {"baseURL","url"} to stdout once listening; SIGTERM or SIGINT stops it.
 * Defaults come from PROVIDER_PORT, PROVIDER_HOST and PROVIDER_MODELS (empty counts as unset), then 0, 127.0.0.1, DEFAULT_MODELS.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { startTestProvider } from "./test-provider.ts";

const Config = z.strictObject({
  port: z.coerce.number().int().min(0).max(65_535),
  host: z.string().min(1),
  models: z.string().transform((list) => list.split(",").map((name) => name.trim()).filter((name) => name.length > 0))
    .pipe(z.array(z.string()).min(1, "at least one model name")).optional(),
});

function parseConfig(argv: string[], env: NodeJS.ProcessEnv): z.infer<typeof Config> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: "string" }, host: { type: "string" }, models: { type: "string" } },
    strict: true,
  });
  const parsed = Config.safeParse({
    port: values.port ?? (env.PROVIDER_PORT || "0"),
    host: values.host ?? (env.PROVIDER_HOST || "127.0.0.1"),
    models: values.models ?? (env.PROVIDER_MODELS || undefined),
  });
  if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
  return Object.freeze(parsed.data);
}

async function main(): Promise<void> {
  let config: z.infer<typeof Config>;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`test provider: bad arguments: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const provider = await startTestProvider({
    ...config,
    onError: (error) => process.stderr.write(`test provider: internal error: ${error instanceof Error ? error.stack : String(error)}\n`),
  });
  const stop = (): void => {
    provider.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.stdout.write(`${JSON.stringify({ baseURL: provider.baseURL, url: provider.url })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`test provider: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
