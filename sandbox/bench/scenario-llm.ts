/**
 * (f) what the llm actor adds to a completion: `llm.complete` through the mesh (policy and
 * prompt-token checks, lease and settle with ai-capacity, the provider call, usage event and
 * call record) against the same request sent straight to the same test provider with the
 * `openai` SDK. The provider answers at once (latency 0), so the difference is all ours.
 * Requests are not deterministic (temperature 1), so the llm cache never answers.
 */
import { connect } from "@nats-io/transport-node";
import OpenAI from "openai";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { createAiCapacityActor } from "../../actors/ai-capacity/actor.ts";
import { parseAiCapacityConfig } from "../../actors/ai-capacity/config.ts";
import { createLlmActor } from "../../actors/llm/actor.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { startTestProvider } from "../provider/test-provider.ts";
import { BENCH_TENANT } from "./bench-actors.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { runClosedLoop, type LoadOptions } from "./closed-loop.ts";
import type { Comparison } from "./report.ts";
import { UNLIMITED_POLICY } from "./scenario-leases.ts";

const MODEL = "gpt-4o-mini";
const MAX_TOKENS = 64;

function question(index: number): string {
  return `Bench question ${index}: summarise the quarterly report in two sentences.`;
}

export async function benchLlm(env: BenchEnvironment, load: LoadOptions): Promise<Comparison> {
  const provider = await startTestProvider();
  const nc = await connect({ ...env.natsOptions(), name: "bench-llm" });
  const client = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 30_000 });
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    await provider.setBehaviour({ latencyMs: 0 });
    const sdk = new OpenAI({ baseURL: provider.baseURL, apiKey: "test", maxRetries: 0 });
    const direct = await runClosedLoop((index) => sdk.chat.completions.create({
      model: MODEL, messages: [{ role: "user", content: question(index) }], max_tokens: MAX_TOKENS, temperature: 1,
    }), load);

    started.push(await env.startActor(tenantsActor, "bench-tenants-2", "llm"));
    started.push(await env.startActor(createAiCapacityActor(parseAiCapacityConfig({})), "bench-capacity-2", "llm"));
    started.push(await env.startActor(createLlmActor({ baseURL: provider.baseURL, apiKey: "test" }), "bench-llm-1", "llm"));
    await actorClient(client, tenantsContract).put({ policy: UNLIMITED_POLICY, expectedVersion: 0 }, { tenant: BENCH_TENANT });
    const llm = actorClient(client, llmContract);
    const mesh = await runClosedLoop((index) => llm.complete({
      model: MODEL, messages: [{ role: "user", content: question(index) }], maxTokens: MAX_TOKENS, temperature: 1,
    }, { tenant: BENCH_TENANT }), load);
    if (mesh.firstError) process.stderr.write(`(f) first llm.complete error: ${String(mesh.firstError)}\n`);
    return {
      scenario: "(f)",
      baseline: { label: "direct openai SDK completion", unit: "calls/s", summary: direct.summary, errors: direct.errors },
      subject: { label: "llm.complete", unit: "calls/s", summary: mesh.summary, errors: mesh.errors },
      latencyMeaning: "one completion from the caller's side, test provider at zero latency",
    };
  } finally {
    for (const actor of started.reverse()) await actor.stop();
    client.close();
    await nc.close();
    await provider.stop();
  }
}
