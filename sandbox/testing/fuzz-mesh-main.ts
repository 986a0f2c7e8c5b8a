/**
 * Test-only process entry: the tenants, ai-capacity, llm and usage actors in one process, each
 * connected with its own credentials, so that the fuzz test can read their memory apart from its
 * own (it starts this with sandbox/bench/measured-process.ts, whose hook forces a full GC and
 * reports process.memoryUsage()). Configured by one JSON variable, FUZZ_MESH (FuzzMeshConfig);
 * prints "ready" once every actor serves; SIGTERM stops them and exits.
 */
import { setMergeCacheSize } from "gpt-tokenizer/encoding/o200k_base";
import { connect } from "@nats-io/transport-node";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { RuntimeConfigSchema, startActor, type RunningActor } from "../../runtime/index.ts";
import { createAiCapacityActor } from "../../actors/ai-capacity/actor.ts";
import { parseAiCapacityConfig } from "../../actors/ai-capacity/config.ts";
import { createLlmActor } from "../../actors/llm/actor.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { createUsageActor } from "../../actors/usage/actor.ts";

export interface FuzzMeshConfig {
  readonly natsUrl: string;
  readonly mongoUrl: string;
  readonly databasePrefix: string;
  /** Creds file per actor name. */
  readonly creds: Readonly<Record<string, string>>;
  readonly providerBaseURL: string;
  /** The operator's creds file, for FUZZ_MESH_LEAK_BYTES's subscriptions. */
  readonly operatorCreds: string;
}

const config = JSON.parse(process.env.FUZZ_MESH ?? "") as FuzzMeshConfig;
const definitions = [
  tenantsActor,
  createAiCapacityActor(parseAiCapacityConfig()),
  // As in the llm tests: idle shares go back within 50 ms.
  createLlmActor({ baseURL: config.providerBaseURL, apiKey: "test", shareIdleMs: 50 }),
  createUsageActor({}),
];
const running: RunningActor[] = [];
for (const definition of definitions) {
  running.push(await startActor(definition, {
    config: Object.freeze(RuntimeConfigSchema.parse({
      natsUrl: config.natsUrl, natsCreds: config.creds[definition.name], mongoUrl: config.mongoUrl, databasePrefix: config.databasePrefix, logLevel: "error", metricsPort: -1,
    })),
  }));
}
/*
 * The llm tokenizer's merge cache is bounded (actors/llm/prompt-tokens.ts, tested there) but
 * replaces pieces of every size: it moves the heap by megabytes either way, which would hide a
 * leak of that size from the fuzz test's reading. Off here, the reading sees everything else.
 */
setMergeCacheSize(0);
/*
 * FUZZ_MESH_LEAK_BYTES=n checks the check: the process then keeps n bytes of heap per request it
 * sees on the actors' subjects, as a leak would, and the fuzz test's memory reading must fail.
 */
const leakBytes = Number(process.env.FUZZ_MESH_LEAK_BYTES ?? 0);
if (leakBytes > 0) {
  const kept: string[] = [];
  const nc = await connect({ servers: config.natsUrl.split(","), ...natsAuthFromCreds(config.operatorCreds) });
  for (const definition of definitions) {
    for (const request of Object.values(definition.contract.requests)) nc.subscribe(request.subject, { callback: () => void kept.push(String(kept.length).padEnd(leakBytes - 16, "x")) });
  }
}
process.stdout.write("ready\n");
process.once("SIGTERM", () => void Promise.allSettled(running.reverse().map((actor) => actor.stop())).then(() => process.exit(0)));
