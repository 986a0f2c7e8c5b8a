import type { ReceivedSpan } from "./otlp-receiver.ts";

const KINDS: Readonly<Record<number, string>> = { 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer" };

/** One trace as an indented tree (children under their parent, in start order), one line per span. */
export function traceAsText(spans: readonly ReceivedSpan[]): string {
  if (spans.length === 0) return "";
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : "";
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const start = Math.min(...spans.map((s) => s.startMs));
  const lines = [`trace ${spans[0]!.traceId}: ${spans.length} spans, ${(Math.max(...spans.map((s) => s.startMs + s.durationMs)) - start).toFixed(1)} ms`];
  const walk = (parent: string, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      const who = span.attributes["meshwork.actor"] ?? span.service;
      const details = [
        `+${(span.startMs - start).toFixed(1)} ms`, `${span.durationMs.toFixed(1)} ms`, KINDS[span.kind] ?? "span", `${who}`,
        ...(span.attributes["meshwork.tenant"] ? [`tenant ${span.attributes["meshwork.tenant"]}`] : []),
        ...(span.attributes["meshwork.error_code"] ? [`error ${span.attributes["meshwork.error_code"]}`] : span.status === 2 ? ["error"] : []),
        ...(span.links.length ? [`linked to ${span.links.map((l) => l.spanId).join(", ")}`] : []),
      ];
      lines.push(`${"  ".repeat(depth)}${span.name}  (${details.join(", ")})`);
      walk(span.spanId, depth + 1);
    }
  };
  walk("", 1);
  return `${lines.join("\n")}\n`;
}
