/**
 * The floor of (f): what a NATS service in front of the provider costs with none of llm's work.
 * A bare nats.js queue subscription parses the request, calls the provider through the same
 * `openai` client the llm actor uses (`createProviderClient`: the SDK over `provider-fetch.ts`)
 * and answers the completion as JSON. On `RELAY_EVENT_SUBJECT` it also publishes one durable
 * JetStream event per answered call after the answer (its own msg id, ack awaited), as the
 * design asks of `llm` (a usage event per request). No policy, tokens, capacity, breaker,
 * validation, call record or metrics. Prints "ready relay" once subscribed.
 *   NATS_URL=… NATS_CREDS=… OPENAI_BASE_URL=… node --import tsx sandbox/bench/llm-relay-main.ts
 */
import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { connect, type Msg } from "@nats-io/transport-node";
import type OpenAI from "openai";
import { createProviderClient } from "../../actors/llm/provider-call.ts";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { RELAY_EVENT_SUBJECT, RELAY_QUEUE, RELAY_SUBJECT, RELAY_USAGE_SUBJECT, type RelayRequest } from "./llm-relay.ts";

const nc = await connect({ servers: process.env.NATS_URL, ...natsAuthFromCreds(process.env.NATS_CREDS!), noAsyncTraces: true, name: "bench-llm-relay" });
const js = jetstream(nc);
const client = createProviderClient(process.env.OPENAI_BASE_URL!, "test");
const decoder = new TextDecoder();

async function relay(msg: Msg, withEvent: boolean): Promise<void> {
  let completion: OpenAI.ChatCompletion;
  try {
    const request = JSON.parse(decoder.decode(msg.data)) as RelayRequest;
    completion = await client.chat.completions.create({
      model: request.model, messages: request.messages, max_tokens: request.maxTokens, temperature: request.temperature,
    });
  } catch (error) {
    msg.respond(JSON.stringify({ error: String(error) }));
    return;
  }
  const usage = { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 };
  msg.respond(JSON.stringify({ model: completion.model, content: completion.choices[0]?.message.content ?? "", usage }));
  if (!withEvent) return;
  const event = { model: completion.model, ...usage, at: new Date().toISOString() };
  // After the answer, as llm publishes its usage event; a refusal shows in the relay's log.
  await js.publish(RELAY_USAGE_SUBJECT, JSON.stringify(event), { msgID: randomUUID() })
    .catch((error: unknown) => process.stderr.write(`relay event not stored: ${String(error)}\n`));
}

nc.subscribe(RELAY_SUBJECT, { queue: RELAY_QUEUE, callback: (_error, msg) => void relay(msg, false) });
nc.subscribe(RELAY_EVENT_SUBJECT, { queue: RELAY_QUEUE, callback: (_error, msg) => void relay(msg, true) });
await nc.flush();
process.stdout.write("ready relay\n");
process.once("SIGTERM", () => void nc.drain().then(() => process.exit(0)));
