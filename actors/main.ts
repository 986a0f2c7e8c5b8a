/**
 * Process entry of one actor replica: `node dist/actors/main.js <actor>` in production (after
 * `make build`), `tsx actors/main.ts <actor>` in development. Only the named actor's modules are
 * loaded. Configuration comes from the environment (see runtime/config.ts). SIGTERM or SIGINT
 * drains and exits 0.
 */
import { runtimeConfigFromEnv, startActor } from "../runtime/index.ts";
import { actorNames, loadActor } from "./index.ts";

const name = process.argv[2] ?? "";
const definition = await loadActor(name);
if (!definition) {
  process.stderr.write(`unknown actor "${name}"; known: ${actorNames.join(", ")}\n`);
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
