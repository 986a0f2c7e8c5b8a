/**
 * `make chaos`: the whole sandbox on a 3-node NATS cluster (R3 streams), demo traffic, and for
 * CHAOS_DURATION seconds (default 90) SIGKILLs of random actor replicas and of one NATS node
 * (restarted seconds later). Then the traffic stops, the consumers drain, and one table says what
 * happened to every request, event and completion. Exit 1 on any loss or double count.
 * CHAOS_SEED repeats a run's kill schedule.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { MeshClient } from "../../runtime/index.ts";
import { issueMeshCredentials } from "../creds/mesh-credentials.ts";
import { DEMO_TENANTS, seedDemoTenants } from "../demo/demo-tenants.ts";
import { Measurements } from "../demo/measurements.ts";
import { startDemoTraffic } from "../demo/traffic.ts";
import { startNatsCluster, WORK_DIR } from "../servers/index.ts";
import { startSandbox } from "../supervisor/start-sandbox.ts";
import { chaosSchedule, seededRandom, type ChaosAction } from "./chaos-schedule.ts";
import { gatherFigures, verdict } from "./chaos-figures.ts";
import { renderChaosTable } from "./chaos-table.ts";

const durationS = Number(process.env.CHAOS_DURATION ?? 90);
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
if (!(durationS > 0 && durationS <= 3600) || !Number.isInteger(seed)) {
  process.stderr.write("make chaos: CHAOS_DURATION must be 1 to 3600 seconds and CHAOS_SEED an integer\n");
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
/** How long the consumers get to catch up once the traffic stopped. */
const DRAIN_TIMEOUT_MS = 120_000;

const workDir = join(WORK_DIR, "chaos");
await rm(workDir, { recursive: true, force: true });
log(`chaos for ${durationS} s, seed ${seed}`);
const credentials = await issueMeshCredentials(join(workDir, "creds"));
const cluster = await startNatsCluster(workDir, { credentials });
log(`NATS cluster up: ${cluster.nodes.map((n) => n.name).join(", ")}`);
process.env.MESHWORK_STREAM_REPLICAS = "3"; // the replicas inherit this process's environment
const sandbox = await startSandbox({
  workDir: join(workDir, "sandbox"), credentialsDir: credentials.dir, natsContextDir: join(workDir, "nats-context"),
  env: { ...process.env, NATS_URL: cluster.url },
  onEvent: (event) => { if (event.type === "crashed" || event.type === "ready") log(`${event.actor} ${event.instanceId}: ${event.type}`); },
});
let exitCode = 1;
try {
  const seeder = new MeshClient(sandbox.nc, { service: "chaos" });
  await seedDemoTenants(seeder);
  seeder.close();
  const measurements = new Measurements();
  const actors = sandbox.supervisor.view().map((v) => v.actor);
  const traffic = startDemoTraffic({ nc: sandbox.nc, actors, tenants: DEMO_TENANTS, measurements });
  const started = Date.now();
  let killedNode: (typeof cluster.nodes)[number] | undefined;
  const kills = { replicas: 0, nats: 0 };
  for (const action of chaosSchedule(seededRandom(seed), { durationMs: durationS * 1000 })) {
    await sleep(Math.max(0, started + action.atMs - Date.now())); // the schedule is in wall-clock time
    killedNode = (await perform(action, killedNode)) ?? killedNode;
    if (action.kind === "kill-replica") kills.replicas++;
    if (action.kind === "kill-nats") kills.nats++;
  }
  await sleep(Math.max(0, started + durationS * 1000 - Date.now()));
  log("stopping the traffic");
  await traffic.stop();
  // A graceful stop settles the llm replicas' open capacity shares (actors/llm/README.md); shares
  // of killed replicas stay reserved until they expire, and are then charged in full.
  log("draining the llm replicas");
  await sandbox.supervisor.scale("llm", 0);
  await drained();
  const provider = await sandbox.provider.stats();
  const figures = await gatherFigures(sandbox.nc, measurements, provider, DEMO_TENANTS.map((t) => t.id));
  const problems = verdict(figures);
  process.stdout.write(`${renderChaosTable(figures, { durationS, seed, kills, at: new Date() }).join("\n")}\n`);
  process.stdout.write(problems.length ? `\nFAILED:\n${problems.map((p) => `  ${p}`).join("\n")}\n` : "\nno event lost, none applied twice, every completion counted once\n");
  exitCode = problems.length ? 1 : 0;
} finally {
  await sandbox.stop();
  await cluster.stop();
}
process.exit(exitCode);

async function perform(action: ChaosAction, down: (typeof cluster.nodes)[number] | undefined) {
  if (action.kind === "kill-replica") {
    const replicas = sandbox.supervisor.view().flatMap((v) => v.replicas.filter((r) => r.state === "ready").map((r) => ({ actor: v.actor, ...r })));
    const victim = replicas[Math.floor(action.pick * replicas.length)];
    if (!victim) return undefined;
    const pid = Number(await readFile(`${victim.logFile}.pid`, "utf8").catch(() => "0"));
    if (pid > 0 && signal(pid)) log(`SIGKILL replica ${victim.actor} ${victim.instanceId}`);
    return undefined;
  }
  if (action.kind === "kill-nats") {
    const node = cluster.nodes[Math.floor(action.pick * cluster.nodes.length)]!;
    await node.kill();
    log(`SIGKILL NATS node ${node.name}`);
    return node;
  }
  if (down) {
    await down.restart();
    log(`NATS node ${down.name} restarted`);
  }
  return undefined;
}

function signal(pid: number): boolean {
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false; // it exited meanwhile
  }
}

/** Waits until every durable consumer has nothing pending or unacknowledged (bounded). */
async function drained(): Promise<void> {
  const jsm = await jetstreamManager(sandbox.nc);
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    let outstanding = 0;
    for await (const stream of jsm.streams.list()) {
      if (!stream.config.name.startsWith("EVENTS_")) continue;
      for await (const consumer of jsm.consumers.list(stream.config.name)) outstanding += consumer.num_pending + consumer.num_ack_pending;
    }
    if (outstanding === 0) return;
    await sleep(500); // JetStream announces no "drained" moment; poll the consumers
  }
  log("consumers did not drain in time: the table shows what is outstanding");
}
