/**
 * `make sandbox` / `npm run sandbox`: the whole mesh on this machine. Provisions NATS and a
 * MongoDB-protocol server, starts the test provider and every actor's replicas, seeds demo
 * tenants, drives demo traffic and shows a live dashboard. `--duration N` stops after N
 * seconds with a summary; Ctrl-C (SIGINT) or SIGTERM stops everything cleanly at any time.
 */
import { Command, InvalidArgumentError } from "commander";
import { startDemo, type Demo } from "./demo/demo.ts";
import { startLiveView } from "./demo/live-view.ts";
import { consoleSteps } from "./demo/progress.ts";
import { renderSummary } from "./demo/summary.ts";
import { describeEvent, logTail } from "./demo/supervisor-events.ts";
import { dirname } from "node:path";
import { SANDBOX_CONTEXT, startSandbox, type Sandbox } from "./supervisor/start-sandbox.ts";
import type { SupervisorEvent } from "./supervisor/replica-supervisor.ts";

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number >= 0");
  return n;
}

const options = new Command("sandbox")
  .description("run the whole mesh on this machine with demo traffic and a live dashboard")
  .option("--duration <seconds>", "stop after this many seconds and print a summary (0: until Ctrl-C)", nonNegative, 0)
  .option("--replicas <n>", "replicas per actor", (v) => {
    const n = nonNegative(v);
    if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError("expected an integer from 1 to 16");
    return n;
  }, 2)
  .option("--actors <names>", "comma-separated actors to run (default: every actor in actors/index.ts)", (v) => v.split(",").map((s) => s.trim()).filter(Boolean))
  .option("--intensity <x>", "multiplies the demo traffic's request rate", nonNegative, 1)
  .parse()
  .opts<{ duration: number; replicas: number; actors?: string[]; intensity: number }>();

const recentEvents: string[] = [];
const firstFailure = new Map<string, string>();
/** Before the dashboard: a line above the progress spinner (which redraws itself on its next tick). */
let note: (line: string) => void = (line) => process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[K" : ""}${line}\n`);
function onEvent(event: SupervisorEvent): void {
  if ((event.type === "crashed" || event.type === "not-ready") && !firstFailure.has(event.actor)) firstFailure.set(event.actor, event.logFile);
  const line = describeEvent(event);
  if (!line) return;
  recentEvents.push(line);
  if (recentEvents.length > 5) recentEvents.shift();
  note(line);
}

let sandbox: Sandbox | undefined;
let demo: Demo | undefined;
let finish: (reason: string) => void = () => {};
const finished = new Promise<string>((resolve) => {
  finish = resolve;
});
let signals = 0;
function requestStop(reason: string): void {
  signals++;
  if (signals > 1) {
    process.stderr.write("\nstopping at once (replicas and servers get SIGTERM as this process exits)\n");
    process.exit(130);
  }
  finish(reason);
}
// Claimed before anything starts: the server helpers then leave the signals to us.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => requestStop(signal));
// On a terminal, Ctrl-C is read as a key rather than sent as SIGINT to the whole process group:
// the servers would get it too and stop before the replicas have drained.
if (process.stdin.isTTY) {
  process.stdin.setRawMode(true);
  process.stdin.on("data", (keys: Buffer) => {
    if (keys.includes(0x03) || keys.includes(0x71)) requestStop("Ctrl-C"); // Ctrl-C or q
  });
}

async function main(): Promise<number> {
  const steps = consoleSteps(process.stderr);
  sandbox = await startSandbox({ actors: options.actors, replicas: options.replicas, steps, onEvent: (e) => onEvent(e) });
  for (const actor of sandbox.failedActors) {
    const log = firstFailure.get(actor);
    process.stderr.write(`✗ actor ${actor} failed to start; it is restarted with backoff. Last lines of ${log}:\n`);
    if (log) for (const line of await logTail(log)) process.stderr.write(`    ${line}\n`);
  }
  if (signals) return sandbox.failedActors.length ? 1 : 0;
  demo = await steps("demo tenants and traffic", async (update) => {
    update("seeding acme, globex, initech");
    const started = await startDemo(sandbox!, { intensity: options.intensity, recentEvents: () => recentEvents });
    update(`services: ${started.traffic.services.join(", ") || "none"}`);
    return started;
  });
  sandbox.web.attach(() => demo!.state());
  process.stderr.write(`✓ ready: ${sandbox.envFile} (NATS ${sandbox.natsUrl}, authentication on; creds in ${dirname(sandbox.natsCreds)}); try: npx mesh status, or nats --context ${SANDBOX_CONTEXT} micro ls\n`);
  process.stderr.write(`✓ web view: ${sandbox.web.url} (live actors, consumers, tenants, dead letters, traces; npx mesh trace <trace-id>)\n`);
  const view = startLiveView(() => demo!.state());
  note = (line) => view.note(line);
  const timer = options.duration > 0 ? setTimeout(() => finish("duration"), options.duration * 1000) : undefined;
  await finished;
  clearTimeout(timer);
  view.stop();
  note = (line) => process.stderr.write(`${line}\n`);
  await demo.stop();
  process.stdout.write(`\n${renderSummary(demo.state(), demo.measurements.failures, sandbox.failedActors).join("\n")}\n\n`);
  return sandbox.failedActors.length ? 1 : 0;
}

async function shutdown(): Promise<void> {
  await demo?.stop().catch(() => {});
  if (sandbox) await consoleSteps(process.stderr)("stopping replicas (drain), provider and servers", () => sandbox!.stop());
}

function exit(code: number): never {
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.exit(code);
}

main().then(
  async (code) => {
    await shutdown();
    exit(code);
  },
  async (error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    await shutdown().catch(() => {});
    exit(1);
  },
);
