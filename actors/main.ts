/**
 * Process entry of one actor replica: `tsx actors/main.ts <actor>`. Configuration comes from
 * the environment (see runtime/config.ts). SIGTERM or SIGINT drains and exits 0.
 */
import { runtimeConfigFromEnv, startActor } from "../runtime/index.ts";
import { actors } from "./index.ts";

const name = process.argv[2] ?? "";
const definition = actors[name];
if (!definition) {
  process.stderr.write(`unknown actor "${name}"; known: ${Object.keys(actors).join(", ")}\n`);
  process.exit(2);
}
const running = await startActor(definition, { config: runtimeConfigFromEnv() });
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(() => process.exit(0), (error: unknown) => {
      running.log.error({ err: error }, "drain failed");
      process.exit(1);
    });
  });
}
