import type { NatsConnection } from "@nats-io/nats-core";
import { gatherConsumerLag, gatherInstanceStats, type ConsumerLag, type InstanceStats } from "../cli/inspect.ts";

export interface ActorServerView {
  readonly actor: string;
  /** Instances answering the service API right now. */
  readonly instances: number;
  /** Requests handled per second over the last poll interval, all instances (internal calls too). */
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly errors: number;
}

export interface MeshObservation {
  readonly actors: readonly ActorServerView[];
  readonly consumers: readonly ConsumerLag[];
  readonly at: number;
}

/**
 * Polls the service API ($SRV.STATS) and JetStream consumer info, and turns cumulative
 * per-instance counters into rates. A replica that restarts starts from zero again, so
 * counts are followed per instance id.
 */
export function observeMesh(nc: NatsConnection, intervalMs = 2000): { latest(): MeshObservation | undefined; stop(): Promise<void> } {
  let previous = new Map<string, number>();
  let previousAt = Date.now();
  let latest: MeshObservation | undefined;
  let stopped = false;
  let polling: Promise<void> = Promise.resolve();

  async function poll(): Promise<void> {
    const [stats, consumers] = await Promise.all([
      gatherInstanceStats(nc, 1000),
      gatherConsumerLag(nc).catch(() => [] as ConsumerLag[]),
    ]);
    const now = Date.now();
    const seconds = Math.max(0.001, (now - previousAt) / 1000);
    const counts = new Map<string, number>();
    const byActor = new Map<string, { instances: number; delta: number; requests: number; errors: number }>();
    for (const instance of stats as InstanceStats[]) {
      const requests = instance.endpoints.reduce((sum, e) => sum + e.num_requests, 0);
      const errors = instance.endpoints.reduce((sum, e) => sum + e.num_errors, 0);
      counts.set(instance.id, requests);
      const view = byActor.get(instance.name) ?? { instances: 0, delta: 0, requests: 0, errors: 0 };
      view.instances++;
      view.delta += Math.max(0, requests - (previous.get(instance.id) ?? 0));
      view.requests += requests;
      view.errors += errors;
      byActor.set(instance.name, view);
    }
    previous = counts;
    previousAt = now;
    latest = {
      at: now,
      consumers,
      actors: [...byActor.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([actor, v]) => ({
        actor, instances: v.instances, requestsPerSecond: v.delta / seconds, requests: v.requests, errors: v.errors,
      })),
    };
  }

  const timer = setInterval(() => {
    polling = polling.then(() => (stopped ? undefined : poll())).catch(() => {});
  }, intervalMs);
  polling = poll().catch(() => {});
  return {
    latest: () => latest,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await polling;
    },
  };
}
