/** Runs one fixture actor replica as its own process, like actors/main.ts does for real actors. */
import { runtimeConfigFromEnv, startActor } from "../index.ts";
import { fixtures } from "./fixture-actors.ts";

const definition = fixtures[process.argv[2] as keyof typeof fixtures];
if (!definition) process.exit(2);
const running = await startActor(definition, { config: runtimeConfigFromEnv() });
process.stdout.write(`ready ${running.instanceId}\n`);
process.once("SIGTERM", () => void running.stop().then(() => process.exit(0)));
