/**
 * What `mesh diagnose` looks at: the service API's stats (instances, per-endpoint requests,
 * errors and last error code), error replies by code (from the sandbox's traces, when its web view
 * runs), JetStream consumers' lag, the newest dead letters with their reasons, and the replica logs'
 * recent warnings, errors and database breaker states. Each part that cannot be read says so.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { gatherConsumerLag, gatherInstanceStats, type ConsumerLag, type InstanceStats } from "../cli/inspect.ts";
import { recentDeadLetters, type DeadLetterView } from "../observe/dead-letters.ts";
import { readReplicaLogs, type BreakerReading, type LogLine } from "./replica-logs.ts";

export interface EndpointEvidence {
  readonly actor: string;
  readonly subject: string;
  readonly instances: number;
  readonly requests: number;
  readonly errors: number;
  readonly lastError: string;
}

export interface Evidence {
  readonly at: string;
  /** Registered actors and how many instances answered `$SRV.STATS`. */
  readonly actors: readonly { readonly actor: string; readonly instances: number }[];
  readonly endpoints: readonly EndpointEvidence[];
  /** Error replies by subject and code, counted from the sandbox's recent traces; undefined without a web view. */
  readonly errorsByCode: Readonly<Record<string, Readonly<Record<string, number>>>> | undefined;
  readonly consumers: readonly ConsumerLag[];
  readonly deadLetters: readonly DeadLetterView[];
  readonly breakers: readonly BreakerReading[];
  readonly logs: readonly LogLine[];
  /** What could not be read, and why. */
  readonly gaps: readonly string[];
}

function endpointsOf(stats: readonly InstanceStats[]): EndpointEvidence[] {
  const bySubject = new Map<string, { actor: string; instances: number; requests: number; errors: number; lastError: string }>();
  for (const instance of stats) {
    for (const endpoint of instance.endpoints) {
      const total = bySubject.get(endpoint.subject) ?? { actor: instance.name, instances: 0, requests: 0, errors: 0, lastError: "" };
      total.instances++;
      total.requests += endpoint.num_requests;
      total.errors += endpoint.num_errors;
      if (endpoint.last_error) total.lastError = endpoint.last_error;
      bySubject.set(endpoint.subject, total);
    }
  }
  return [...bySubject.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([subject, t]) => ({ subject, ...t }));
}

export async function gatherEvidence(nc: NatsConnection, options: { actors: readonly string[]; logDir: string; webUrl: string | undefined }): Promise<Evidence> {
  const gaps: string[] = [];
  const [stats, consumers, deadLetters, logs, errorsByCode] = await Promise.all([
    gatherInstanceStats(nc, 1000),
    gatherConsumerLag(nc).catch((error: unknown) => {
      gaps.push(`JetStream consumer info unavailable: ${String(error)}`);
      return [];
    }),
    recentDeadLetters(nc).catch((error: unknown) => {
      gaps.push(`dead letters unreadable: ${String(error)}`);
      return [];
    }),
    readReplicaLogs(options.logDir),
    options.webUrl
      ? fetch(`${options.webUrl}/api/errors`).then((r) => (r.ok ? (r.json() as Promise<Record<string, Record<string, number>>>) : undefined), () => undefined)
      : Promise.resolve(undefined),
  ]);
  if (!logs.found) gaps.push(`no replica logs at ${options.logDir} (recent errors and breaker states come from the sandbox's logs)`);
  if (!errorsByCode) gaps.push("no error counts by code (they come from the sandbox's traces: its web view is not running)");
  const counts = new Map<string, number>();
  for (const instance of stats) counts.set(instance.name, (counts.get(instance.name) ?? 0) + 1);
  return {
    at: new Date().toISOString(),
    actors: options.actors.map((actor) => ({ actor, instances: counts.get(actor) ?? 0 })),
    endpoints: endpointsOf(stats),
    errorsByCode, consumers, deadLetters, breakers: logs.breakers, logs: logs.lines, gaps,
  };
}
