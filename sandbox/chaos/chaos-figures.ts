/**
 * What the chaos run counts once the traffic has stopped and the consumers have drained: requests
 * as the callers saw them, events as JetStream and the consumers hold them, and completions as
 * the provider, ai-capacity and usage each count them. `verdict` names every loss or double count.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { usageContract } from "../../protocol/usage.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import type { Measurements } from "../demo/measurements.ts";
import type { ProviderStats } from "../provider/test-provider.ts";

export interface DurableFigures {
  readonly durable: string;
  readonly subject: string;
  readonly published: number;
  /** Delivered and acknowledged (processed, or dead-lettered and terminated). */
  readonly consumed: number;
  readonly deadLettered: number;
  /** Not delivered or not acknowledged when the run ended: lost unless the consumer catches up. */
  readonly outstanding: number;
}

export interface ChaosFigures {
  readonly requests: { sent: number; answered: number; errors: Record<string, number>; timeouts: number };
  readonly durables: readonly DurableFigures[];
  /** `usage`: usage events stored vs llm.complete requests its report counts (one per event). */
  readonly usage: { events: number; counted: number };
  /** `chargedUsd`: ai-capacity's spent; `reservedUsd`: shares and leases not settled yet (killed replicas' until they expire, then charged in full). */
  readonly completions: { provider: number; usage: number; cutOff: number; chargedUsd: number; reservedUsd: number; countedUsd: number };
}

/** Every durable consumer of every event stream, with its stream's count of its subject. */
async function durableFigures(jsm: JetStreamManager): Promise<DurableFigures[]> {
  const found: DurableFigures[] = [];
  const deadLetters = new Map<string, number>();
  for await (const stream of jsm.streams.list()) {
    if (!stream.config.name.startsWith("DLQ_")) continue;
    const info = await jsm.streams.info(stream.config.name, { subjects_filter: ">" });
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) deadLetters.set(subject, count);
  }
  for await (const stream of jsm.streams.list()) {
    if (!stream.config.name.startsWith("EVENTS_")) continue;
    const info = await jsm.streams.info(stream.config.name, { subjects_filter: ">" });
    for await (const consumer of jsm.consumers.list(stream.config.name)) {
      const subject = consumer.config.filter_subject ?? "";
      const consumerActor = consumer.name.split("--")[0]!;
      const published = info.state.subjects?.[subject] ?? 0;
      const outstanding = consumer.num_pending + consumer.num_ack_pending;
      found.push({
        durable: consumer.name, subject, published, outstanding, consumed: published - outstanding,
        deadLettered: deadLetters.get(`dlq.${consumerActor}.${subject}`) ?? 0,
      });
    }
  }
  return found.sort((a, b) => a.durable.localeCompare(b.durable));
}

export async function gatherFigures(nc: NatsConnection, measurements: Measurements, provider: ProviderStats, tenants: readonly string[]): Promise<ChaosFigures> {
  const jsm = await jetstreamManager(nc);
  const errors: Record<string, number> = {};
  let sent = 0;
  for (const actor of measurements.actors()) {
    sent += actor.calls;
    for (const [code, n] of Object.entries(actor.errors)) errors[code] = (errors[code] ?? 0) + n;
  }
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const llmErrors = measurements.actors().find((a) => a.actor === "llm")?.errors ?? {};
  const mesh = new MeshClient(nc, { service: "chaos" });
  try {
    const usage = actorClient(mesh, usageContract);
    const capacity = actorClient(mesh, aiCapacityContract);
    let counted = 0;
    let providerCalls = 0;
    let countedUsd = 0;
    let chargedUsd = 0;
    let reservedUsd = 0;
    for (const tenant of tenants) {
      const { total } = await usage.report({}, { tenant, timeoutMs: 10_000, maxAttempts: 5 });
      counted += total.requests;
      // Answered by the provider: requests neither served from the cache nor failed nor refused.
      providerCalls += total.requests - total.cacheHits - total.errors - total.rejected;
      countedUsd += total.costUsd;
      const status = await capacity.status({}, { tenant, timeoutMs: 10_000, maxAttempts: 5 });
      chargedUsd += status.spentUsd;
      reservedUsd += status.reservedUsd;
    }
    const usageEvents = (await jsm.streams.info("EVENTS_LLM", { subjects_filter: "events.llm.usage" })).state.subjects?.["events.llm.usage"] ?? 0;
    return {
      requests: { sent, answered: sent - failed, errors, timeouts: errors.TIMEOUT ?? 0 },
      durables: await durableFigures(jsm),
      usage: { events: usageEvents, counted },
      completions: {
        provider: provider.byStatus["200"] ?? 0,
        usage: providerCalls,
        // A completion whose replica was killed after the provider answered has no usage event by design
        // (actors/llm/README.md): its caller saw TIMEOUT or UNAVAILABLE, and ai-capacity charges its reservation.
        cutOff: (llmErrors.TIMEOUT ?? 0) + (llmErrors.UNAVAILABLE ?? 0),
        chargedUsd, reservedUsd, countedUsd,
      },
    };
  } finally {
    mesh.close();
  }
}

/** Every loss or double count in the figures; empty when the run is clean. */
export function verdict(figures: ChaosFigures): string[] {
  const problems: string[] = [];
  for (const d of figures.durables) {
    if (d.outstanding > 0) problems.push(`${d.durable}: ${d.outstanding} events never consumed`);
    if (d.deadLettered > 0) problems.push(`${d.durable}: ${d.deadLettered} events dead-lettered`);
  }
  const { usage, completions } = figures;
  if (usage.counted > usage.events) problems.push(`usage counts ${usage.counted} requests from ${usage.events} usage events: applied twice`);
  if (usage.counted < usage.events) problems.push(`usage counts ${usage.counted} requests from ${usage.events} usage events: events lost`);
  if (completions.usage > completions.provider) problems.push(`usage counts ${completions.usage} provider answers, the provider gave ${completions.provider}: double count`);
  if (completions.provider - completions.usage > completions.cutOff) {
    problems.push(`${completions.provider - completions.usage} provider answers are not in usage, more than the ${completions.cutOff} calls cut off by kills: lost`);
  }
  // ai-capacity charges at least what usage counts (more for cut-off calls, charged their
  // reservation); what is still reserved will be charged (in full, for a killed replica's share).
  if (completions.chargedUsd + completions.reservedUsd + 1e-9 < completions.countedUsd) {
    problems.push(`ai-capacity charged $${completions.chargedUsd} (+ $${completions.reservedUsd} reserved) for $${completions.countedUsd} of counted usage: undercharged`);
  }
  return problems;
}
