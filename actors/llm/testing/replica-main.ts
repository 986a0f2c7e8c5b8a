/**
 * Test-only process entry: one llm replica configured from the environment (OPENAI_BASE_URL,
 * LLM_TIMEOUT_MS, ...), so that a test can SIGKILL it while its calls are at the provider.
 * Prints "ready <instance>".
 */
import { runtimeConfigFromEnv, startActor } from "../../../runtime/index.ts";
import { llmActor } from "../actor.ts";

const running = await startActor(llmActor, { config: runtimeConfigFromEnv() });
process.stdout.write(`ready ${running.instanceId}\n`);
process.once("SIGTERM", () => void running.stop().then(() => process.exit(0)));
