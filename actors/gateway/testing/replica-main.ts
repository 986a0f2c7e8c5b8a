/**
 * Test-only process entry: one gateway replica configured from the environment, so that a test
 * can SIGTERM it under load. Prints "ready <instance> <http port>".
 */
import { runtimeConfigFromEnv, startActor } from "../../../runtime/index.ts";
import { createGatewayActor, type GatewayHandle } from "../actor.ts";
import { gatewayConfigFromEnv } from "../config.ts";

const handle: GatewayHandle = { port: 0 };
const running = await startActor(createGatewayActor(gatewayConfigFromEnv(), handle), { config: runtimeConfigFromEnv() });
process.stdout.write(`ready ${running.instanceId} ${handle.port}\n`);
process.once("SIGTERM", () => void running.stop().then(() => process.exit(0)));
