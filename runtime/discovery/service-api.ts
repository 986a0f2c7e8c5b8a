import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { EndpointStats } from "../request/endpoint-stats.ts";

/** Identity of one replica as the NATS service API reports it. */
export interface ServiceIdentity {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly metadata: Record<string, string>;
}

const encoder = new TextEncoder();

/**
 * Answers $SRV.PING, $SRV.INFO and $SRV.STATS (plain, by name and by name and id) with the
 * JSON shapes of the NATS micro protocol (ADR-32), so `nats micro ls|info|stats` work.
 * Written here rather than taken from @nats-io/services, whose only release is a
 * prerelease bound to a prerelease nats-core, and so the request path stays ours.
 */
export function startServiceApi(nc: NatsConnection, identity: ServiceIdentity, endpoints: () => readonly EndpointStats[]): { stop(): void } {
  const started = new Date().toISOString();
  const base = () => ({ name: identity.name, id: identity.id, version: identity.version, metadata: identity.metadata });
  const verbs: Record<string, () => unknown> = {
    PING: () => ({ type: "io.nats.micro.v1.ping_response", ...base() }),
    INFO: () => ({
      type: "io.nats.micro.v1.info_response",
      ...base(),
      description: identity.description,
      endpoints: endpoints().map((e) => ({ name: e.name, subject: e.subject, queue_group: e.queueGroup, metadata: null })),
    }),
    STATS: () => ({
      type: "io.nats.micro.v1.stats_response",
      ...base(),
      started,
      endpoints: endpoints().map((e) => ({
        name: e.name,
        subject: e.subject,
        queue_group: e.queueGroup,
        num_requests: e.numRequests,
        num_errors: e.numErrors,
        last_error: e.lastError,
        processing_time: e.processingTimeNs,
        average_processing_time: e.numRequests ? Math.round(e.processingTimeNs / e.numRequests) : 0,
        data: null,
      })),
    }),
  };
  const subscriptions: Subscription[] = [];
  for (const [verb, answer] of Object.entries(verbs)) {
    for (const subject of [`$SRV.${verb}`, `$SRV.${verb}.${identity.name}`, `$SRV.${verb}.${identity.name}.${identity.id}`]) {
      subscriptions.push(nc.subscribe(subject, {
        callback: (error, msg) => {
          if (!error && msg.reply) msg.respond(encoder.encode(JSON.stringify(answer())));
        },
      }));
    }
  }
  return { stop: () => subscriptions.forEach((s) => s.unsubscribe()) };
}
