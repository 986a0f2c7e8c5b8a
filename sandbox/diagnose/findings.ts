/** The evidence as short numbered lines, the faults first: what a person (or the llm) reads. */
import type { Evidence } from "./evidence.ts";

export function findings(evidence: Evidence): string[] {
  const lines: string[] = [];
  for (const { actor, instances } of evidence.actors) if (instances === 0) lines.push(`actor ${actor}: no instance answers the service API (not running, or cut off from NATS)`);
  for (const breaker of evidence.breakers) {
    if (breaker.state !== "closed") lines.push(`actor ${breaker.actor} (${breaker.instance}): database circuit breaker ${breaker.state} since ${breaker.time} (the database is unreachable)`);
  }
  for (const endpoint of evidence.endpoints) {
    if (endpoint.errors === 0) continue;
    const share = endpoint.requests ? Math.round((endpoint.errors / endpoint.requests) * 100) : 0;
    const codes = evidence.errorsByCode?.[endpoint.subject];
    const byCode = codes ? `; by code in recent traces: ${Object.entries(codes).map(([code, n]) => `${code} ${n}`).join(", ")}` : "";
    lines.push(`${endpoint.subject}: ${endpoint.errors} of ${endpoint.requests} requests failed (${share}%), last error ${endpoint.lastError || "unknown"}${byCode}`);
  }
  for (const consumer of evidence.consumers) {
    if (consumer.pending + consumer.ackPending > 0 || consumer.redelivered > 0) {
      lines.push(`consumer ${consumer.consumer} on ${consumer.stream}: ${consumer.pending} pending, ${consumer.ackPending} unacknowledged, ${consumer.redelivered} redelivered`);
    }
  }
  const byConsumer = new Map<string, typeof evidence.deadLetters[number][]>();
  for (const letter of evidence.deadLetters) byConsumer.set(letter.consumer, [...(byConsumer.get(letter.consumer) ?? []), letter]);
  for (const [consumer, letters] of byConsumer) {
    const newest = letters[0]!;
    lines.push(`consumer ${consumer} dead-lettered ${letters.length} recent event${letters.length === 1 ? "" : "s"} of ${newest.subject}; newest ${newest.at} (event ${newest.eventId}, ${newest.deliveryCount} deliveries): ${newest.reason}`);
  }
  for (const log of evidence.logs.filter((line) => line.level !== "warn").slice(-5)) lines.push(`log ${log.time} ${log.actor} ${log.level}: ${log.message}${log.detail ? ` (${log.detail})` : ""}`);
  if (lines.length === 0) lines.push("no fault in the evidence: every actor answers, no endpoint has errors, no consumer lags, no dead letters");
  for (const gap of evidence.gaps) lines.push(`not seen: ${gap}`);
  return lines.map((line, index) => `${index + 1}. ${line}`);
}
