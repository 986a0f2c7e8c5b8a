import { test } from "node:test";
import assert from "node:assert/strict";
import { chaosSchedule, seededRandom } from "./chaos-schedule.ts";

test("a chaos schedule kills replicas throughout the run and one NATS node once, restarted inside the run", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const actions = chaosSchedule(seededRandom(seed), { durationMs: 90_000 });
    const natsKills = actions.filter((a) => a.kind === "kill-nats");
    const restarts = actions.filter((a) => a.kind === "restart-nats");
    assert.equal(natsKills.length, 1);
    assert.equal(restarts.length, 1);
    assert.ok(natsKills[0]!.atMs >= 18_000 && natsKills[0]!.atMs <= 54_000, "in the middle part of the run");
    assert.ok(restarts[0]!.atMs > natsKills[0]!.atMs && restarts[0]!.atMs <= 90_000);
    const replicaKills = actions.filter((a) => a.kind === "kill-replica");
    assert.ok(replicaKills.length >= 9 && replicaKills.length <= 22, `${replicaKills.length} replica kills`);
    assert.ok(actions.every((a, i) => i === 0 || a.atMs >= actions[i - 1]!.atMs), "in time order");
  }
});

test("the same seed gives the same schedule; another seed another one", () => {
  const one = chaosSchedule(seededRandom(7), { durationMs: 30_000 });
  assert.deepEqual(chaosSchedule(seededRandom(7), { durationMs: 30_000 }), one);
  assert.notDeepEqual(chaosSchedule(seededRandom(8), { durationMs: 30_000 }), one);
});
