/** Per-endpoint request and error rates from the service API's cumulative counters, followed per instance. */
import type { InstanceStats } from "../cli/inspect.ts";

export interface EndpointRate {
  readonly actor: string;
  readonly subject: string;
  readonly instances: number;
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly requests: number;
  readonly errors: number;
  /** Mean server-side handling time over every request so far, ms. */
  readonly averageMs: number;
}

export class EndpointRates {
  #previous = new Map<string, { requests: number; errors: number }>();
  #previousAt = 0;

  /** Rates since the previous call (a replica that restarted counts from zero again). */
  update(stats: readonly InstanceStats[], now: number): EndpointRate[] {
    const seconds = this.#previousAt ? Math.max(0.001, (now - this.#previousAt) / 1000) : 0;
    const next = new Map<string, { requests: number; errors: number }>();
    const bySubject = new Map<string, { actor: string; instances: number; dRequests: number; dErrors: number; requests: number; errors: number; timeNs: number }>();
    for (const instance of stats) {
      for (const endpoint of instance.endpoints) {
        const key = `${instance.id}/${endpoint.subject}`;
        const before = this.#previous.get(key) ?? { requests: 0, errors: 0 };
        next.set(key, { requests: endpoint.num_requests, errors: endpoint.num_errors });
        const total = bySubject.get(endpoint.subject) ?? { actor: instance.name, instances: 0, dRequests: 0, dErrors: 0, requests: 0, errors: 0, timeNs: 0 };
        total.instances++;
        total.dRequests += Math.max(0, endpoint.num_requests - before.requests);
        total.dErrors += Math.max(0, endpoint.num_errors - before.errors);
        total.requests += endpoint.num_requests;
        total.errors += endpoint.num_errors;
        total.timeNs += endpoint.average_processing_time * endpoint.num_requests;
        bySubject.set(endpoint.subject, total);
      }
    }
    this.#previous = next;
    this.#previousAt = now;
    return [...bySubject.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([subject, t]) => ({
      actor: t.actor, subject, instances: t.instances,
      requestsPerSecond: seconds ? t.dRequests / seconds : 0, errorsPerSecond: seconds ? t.dErrors / seconds : 0,
      requests: t.requests, errors: t.errors, averageMs: t.requests ? t.timeNs / t.requests / 1e6 : 0,
    }));
  }
}
