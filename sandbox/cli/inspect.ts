/**
 * What the NATS service API and JetStream say about the running mesh: instances, endpoint stats,
 * durable consumers' lag. Used by `mesh status` and by the sandbox's dashboard.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { z } from "zod";

const Endpoint = z.object({
  name: z.string(),
  subject: z.string(),
  queue_group: z.string().optional(),
  num_requests: z.number().default(0),
  num_errors: z.number().default(0),
  last_error: z.string().optional(),
  average_processing_time: z.number().default(0),
});

export const InstanceStats = z.object({
  name: z.string(),
  id: z.string(),
  version: z.string().default(""),
  started: z.string().optional(),
  endpoints: z.array(Endpoint).nullable().default([]).transform((e) => e ?? []),
});
export type InstanceStats = z.infer<typeof InstanceStats>;

const decoder = new TextDecoder();

/**
 * Sends `$SRV.STATS` once and collects every answer: it stops once answers pause for a moment
 * (each replica answers at once on a live mesh), or after `windowMs` when nobody answers.
 */
export async function gatherInstanceStats(nc: NatsConnection, windowMs = 1000, actor?: string): Promise<InstanceStats[]> {
  const subject = actor ? `$SRV.STATS.${actor}` : "$SRV.STATS";
  const found: InstanceStats[] = [];
  try {
    const replies = await nc.requestMany(subject, undefined, { strategy: "stall", stall: 250, maxWait: windowMs });
    for await (const msg of replies) {
      if (msg.headers?.hasError) continue; // a "no responders" status
      const parsed = InstanceStats.safeParse(JSON.parse(decoder.decode(msg.data)));
      if (parsed.success) found.push(parsed.data);
    }
  } catch {
    // no responders at all: an empty mesh
  }
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export interface ConsumerLag {
  readonly stream: string;
  readonly consumer: string;
  /** Messages in the stream the consumer has not been delivered yet. */
  readonly pending: number;
  /** Delivered, not yet acknowledged. */
  readonly ackPending: number;
  readonly redelivered: number;
  /** Pull requests waiting (roughly: replicas ready for more). */
  readonly waiting: number;
}

/** Every durable consumer of every stream with its lag, from JetStream's consumer info. */
export async function gatherConsumerLag(nc: NatsConnection): Promise<ConsumerLag[]> {
  const jsm = await jetstreamManager(nc);
  const lags: ConsumerLag[] = [];
  for await (const stream of jsm.streams.list()) {
    for await (const consumer of jsm.consumers.list(stream.config.name)) {
      lags.push({
        stream: stream.config.name,
        consumer: consumer.name,
        pending: consumer.num_pending,
        ackPending: consumer.num_ack_pending,
        redelivered: consumer.num_redelivered,
        waiting: consumer.num_waiting,
      });
    }
  }
  return lags.sort((a, b) => a.stream.localeCompare(b.stream) || a.consumer.localeCompare(b.consumer));
}

export interface EndpointTotals {
  readonly subject: string;
  readonly requests: number;
  readonly errors: number;
  /** Mean handler time in milliseconds, weighted by requests. */
  readonly averageMs: number;
}

/** One actor's endpoints summed over its instances. */
export function endpointTotals(instances: readonly InstanceStats[]): EndpointTotals[] {
  const bySubject = new Map<string, { requests: number; errors: number; timeNs: number }>();
  for (const instance of instances) {
    for (const endpoint of instance.endpoints) {
      const total = bySubject.get(endpoint.subject) ?? { requests: 0, errors: 0, timeNs: 0 };
      total.requests += endpoint.num_requests;
      total.errors += endpoint.num_errors;
      total.timeNs += endpoint.average_processing_time * endpoint.num_requests;
      bySubject.set(endpoint.subject, total);
    }
  }
  return [...bySubject.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([subject, t]) => ({
    subject, requests: t.requests, errors: t.errors, averageMs: t.requests ? t.timeNs / t.requests / 1e6 : 0,
  }));
}
