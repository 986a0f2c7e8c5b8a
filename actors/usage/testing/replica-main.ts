/**
 * Test-only process entry: one usage replica that SIGKILLs itself right after its
 * USAGE_CRASH_AFTER-th event was applied and before the runtime acknowledged it, with the rest
 * of its batch in flight: the crash a redelivery must survive. Prints "ready <instance>".
 */
import { runtimeConfigFromEnv, startActor, type ConsumerSpec } from "../../../runtime/index.ts";
import { createUsageActor } from "../actor.ts";
import { usageConfigFromEnv } from "../config.ts";

const crashAfter = Number(process.env.USAGE_CRASH_AFTER ?? "0");
const definition = createUsageActor(usageConfigFromEnv());
let applied = 0;
const consumers: ConsumerSpec[] = (definition.consumers ?? []).map((spec) => ({
  ...spec,
  handler: async (event, context) => {
    await spec.handler(event, context);
    if (crashAfter > 0 && ++applied >= crashAfter) process.kill(process.pid, "SIGKILL");
  },
}));
const running = await startActor({ ...definition, consumers }, { config: runtimeConfigFromEnv() });
process.stdout.write(`ready ${running.instanceId}\n`);
process.once("SIGTERM", () => void running.stop().then(() => process.exit(0)));
