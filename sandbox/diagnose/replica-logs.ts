/** The newest warnings and errors of the sandbox's replica logs (pino JSON lines), and each replica's last database breaker state. */
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface LogLine {
  readonly file: string;
  readonly time: string;
  readonly level: "warn" | "error" | "fatal";
  readonly actor: string;
  readonly message: string;
  /** What pino recorded beside the message that says what went wrong (error message, code, reason, state). */
  readonly detail: string;
}

export interface BreakerReading {
  readonly actor: string;
  readonly instance: string;
  readonly state: string;
  readonly time: string;
}

const LEVELS: Readonly<Record<number, LogLine["level"]>> = { 40: "warn", 50: "error", 60: "fatal" };
/** Only the end of each file is read: recent lines are what a diagnosis needs. */
const TAIL_BYTES = 256 * 1024;

async function tail(path: string): Promise<string[]> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const { buffer, bytesRead } = await file.read(Buffer.alloc(size - start), 0, size - start, start);
    const lines = buffer.subarray(0, bytesRead).toString("utf8").split("\n");
    return start > 0 ? lines.slice(1) : lines;
  } finally {
    await file.close();
  }
}

function detailOf(entry: Record<string, unknown>): string {
  const err = entry.err as { message?: string; code?: string } | undefined;
  const parts = [err?.message, err?.code, entry.detail, entry.reason, entry.state ? `state ${String(entry.state)}` : undefined, entry.consumer ? `consumer ${String(entry.consumer)}` : undefined];
  return parts.filter((part) => part !== undefined && part !== "").map(String).join("; ").slice(0, 300);
}

/** Warnings and errors of every `*.log` in `dir`, newest last (at most `limit`), and the breakers' last states. */
export async function readReplicaLogs(dir: string, limit = 20): Promise<{ lines: LogLine[]; breakers: BreakerReading[]; found: boolean }> {
  const files = await readdir(dir).then((names) => names.filter((name) => name.endsWith(".log")), () => undefined);
  if (!files) return { lines: [], breakers: [], found: false };
  const lines: LogLine[] = [];
  const breakers = new Map<string, BreakerReading>();
  for (const name of files) {
    for (const raw of await tail(join(dir, name)).catch(() => [])) {
      if (!raw.startsWith("{")) continue;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      const level = LEVELS[Number(entry.level)];
      if (!level) continue;
      // pino writes epoch ms unless told otherwise; an ISO string is kept as it is.
      const time = typeof entry.time === "string" ? entry.time : new Date(Number(entry.time) || 0).toISOString();
      const actor = String(entry.actor ?? name.replace(/-\d+\.log$/, ""));
      if (entry.breaker && entry.state) breakers.set(`${actor}/${String(entry.instance ?? name)}`, { actor, instance: String(entry.instance ?? name), state: String(entry.state), time });
      lines.push({ file: name, time, level, actor, message: String(entry.msg ?? ""), detail: detailOf(entry) });
    }
  }
  lines.sort((a, b) => a.time.localeCompare(b.time));
  return { lines: lines.slice(-limit), breakers: [...breakers.values()].sort((a, b) => a.actor.localeCompare(b.actor)), found: true };
}
