import { test } from "node:test";
import assert from "node:assert/strict";
import type { SupervisedProcess } from "../servers/supervised-process.ts";
import { ActorReplicas, type ReplicaLauncher, type SupervisorEvent } from "./actor-replicas.ts";
import { nextCrashCount, restartDelay } from "./restart-backoff.ts";

/** A stand-in for a replica process whose start and exit the test decides (no NATS involved). */
class FakeReplica implements SupervisedProcess {
  readonly name: string;
  readonly logFile = "/dev/null";
  readonly exited: Promise<number | null>;
  stops = 0;
  #exit!: (code: number | null) => void;
  #done = false;
  readonly ready: Promise<boolean>;
  #ready!: (ok: boolean) => void;

  constructor(readonly instanceId: string) {
    this.name = instanceId;
    this.exited = new Promise((resolve) => {
      this.#exit = resolve;
    });
    this.ready = new Promise((resolve) => {
      this.#ready = resolve;
    });
  }

  hasExited(): boolean {
    return this.#done;
  }

  becomeReady(): void {
    this.#ready(true);
  }

  crash(code: number): void {
    this.#done = true;
    this.#ready(false);
    this.#exit(code);
  }

  async stop(): Promise<void> {
    this.stops++;
    this.crash(0);
  }
}

function harness(options: { readyAtOnce: boolean }) {
  const spawned: FakeReplica[] = [];
  const events: SupervisorEvent[] = [];
  const waiters: Array<{ matches: (e: SupervisorEvent) => boolean; resolve: (e: SupervisorEvent) => void }> = [];
  const launcher: ReplicaLauncher = {
    spawn: (_actor, instanceId) => {
      const replica = new FakeReplica(instanceId);
      spawned.push(replica);
      if (options.readyAtOnce) replica.becomeReady();
      return replica;
    },
    awaitReady: (_actor, _id, process) => (process as FakeReplica).ready,
  };
  const replicas = new ActorReplicas("notes", {
    launcher, logDir: "/tmp", stopGraceMs: 100, backoff: { initialMs: 5, maxMs: 20, stableMs: 60_000 },
    onEvent: (event) => {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.matches(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
  });
  const next = (matches: (e: SupervisorEvent) => boolean) => new Promise<SupervisorEvent>((resolve) => waiters.push({ matches, resolve }));
  return { replicas, spawned, events, next };
}

test("restart delays double per consecutive crash up to the cap, and start over after a stable run", () => {
  const policy = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };
  assert.deepEqual([1, 2, 3, 4, 7, 50].map((n) => restartDelay(policy, n)), [500, 1000, 2000, 4000, 30_000, 30_000]);
  assert.equal(nextCrashCount(policy, 5, 1000), 6);
  assert.equal(nextCrashCount(policy, 5, 60_000), 1);
});

test("scaling up waits for every new replica; scaling down stops the highest slots without calling it a crash", async () => {
  const { replicas, spawned, events } = harness({ readyAtOnce: true });
  const up = await replicas.scale(3);
  assert.deepEqual(up.ready, spawned.map((r) => r.instanceId));
  assert.deepEqual(up.failed, []);
  assert.deepEqual(replicas.view().map((r) => [r.slot, r.state]), [[1, "ready"], [2, "ready"], [3, "ready"]]);
  const down = await replicas.scale(1);
  assert.deepEqual(down.ready, [spawned[0]!.instanceId]);
  assert.deepEqual(spawned.map((r) => r.stops), [0, 1, 1]);
  assert.deepEqual(events.filter((e) => e.type === "stopped").map((e) => e.slot).sort(), [2, 3]);
  assert.equal(events.some((e) => e.type === "crashed"), false);
  assert.equal(replicas.desired, 1);
});

test("a replica that dies while starting is reported failed and restarted with growing delays", async () => {
  const { replicas, spawned, next } = harness({ readyAtOnce: false });
  const started = next((e) => e.type === "starting");
  const scaling = replicas.scale(1);
  await started;
  const restarted = next((e) => e.type === "starting");
  spawned[0]!.crash(1);
  const outcome = await scaling;
  assert.deepEqual(outcome.failed, [spawned[0]!.instanceId]);
  assert.equal((await restarted).slot, 1);
  const secondCrash = next((e) => e.type === "crashed");
  const secondRestart = next((e) => e.type === "starting");
  spawned[1]!.crash(1);
  const crash = await secondCrash;
  assert.equal(crash.type === "crashed" && crash.restartInMs, 10, "the second consecutive crash waits twice as long");
  await secondRestart;
  const ready = next((e) => e.type === "ready");
  spawned[2]!.becomeReady();
  await ready;
  assert.equal(replicas.view()[0]?.restarts, 2);
  assert.equal(replicas.view()[0]?.state, "ready");
  await replicas.scale(0);
  assert.deepEqual(replicas.view(), []);
});

test("a crashed replica whose slot is scaled away is not restarted", async () => {
  const { replicas, spawned, events } = harness({ readyAtOnce: true });
  await replicas.scale(2);
  spawned[1]!.crash(137);
  await replicas.scale(1);
  await new Promise((resolve) => setTimeout(resolve, 30)); // longer than the largest restart delay
  assert.equal(spawned.length, 2);
  assert.deepEqual(events.filter((e) => e.type === "crashed").map((e) => e.slot), [2]);
});
