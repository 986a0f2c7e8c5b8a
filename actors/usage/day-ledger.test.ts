/** The day ledger against the real database: slots without gaps under concurrent writers, folds, decisions, isolation. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { createUsageActor } from "./actor.ts";
import { createDayLedger } from "./day-ledger.ts";
import { emptyCounters, type UsageCell } from "./usage-cells.ts";
import { keys, USAGE_HEADS, USAGE_SLOTS } from "./usage-records.ts";

const servers = await useTestServers();
const mongo = createMongoClient(servers.mongoUrl);
after(() => mongo.close());
const { collections } = createUsageActor();
/** Two stores on one database: what two replicas hold. */
const replicaStore = () => createActorStore({ client: mongo, actor: "usage", prefix: servers.databasePrefix, collections });
const store = replicaStore();
await store.ensureIndexes();
const expiresAt = new Date(Date.now() + 86_400_000);
const cell = (service: string, requests: number, costNanoUsd: number): UsageCell => ({ service, model: "m", ...emptyCounters(), requests, costNanoUsd });

test("two replicas committing at once fill slots 1..n without a gap, each holding the total so far, and the day reads their sum", async () => {
  const [a, b] = [createDayLedger(replicaStore()), createDayLedger(replicaStore())];
  const commits = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).commit("race", "2026-11-01", `race-${i}`, [cell(i % 3 ? "x" : "y", 1, i)], expiresAt));
  assert.deepEqual(new Set((await Promise.all(commits)).map((commit) => commit.outcome)), new Set(["committed"]));
  const slots = await store.collection(USAGE_SLOTS).getMany("race", Array.from({ length: 41 }, (_, i) => keys.slot("2026-11-01", i + 1)));
  assert.equal(slots.filter(Boolean).length, 40);
  assert.equal(slots[40], null, "nothing past the last slot");
  assert.deepEqual(new Set(slots.slice(0, 40).map((slot) => slot!.batch)).size, 40, "each batch once");
  assert.deepEqual(slots.slice(0, 40).map((slot) => slot!.cells.reduce((sum: number, c: UsageCell) => sum + c.requests, 0)), Array.from({ length: 40 }, (_, i) => i + 1));
  const cells = await a.read("race", "2026-11-01");
  const requests = cells.reduce((sum, c) => sum + c.requests, 0);
  const cost = cells.reduce((sum, c) => sum + c.costNanoUsd, 0);
  assert.deepEqual([requests, cost], [40, (39 * 40) / 2]);
});

test("each slot holds the day's running total; a lost or stale head only costs readers a few more reads", async () => {
  const ledger = createDayLedger(store);
  const commitAndHead = async (target: typeof ledger, batch: string) => {
    const commit = await target.commit("runner", "2026-11-02", batch, [cell("s", 1, 10)], expiresAt);
    if (commit.outcome === "committed" && commit.slot) await target.writeHead("runner", commit.slot);
  };
  for (let i = 1; i <= 7; i++) await commitAndHead(ledger, `run-${i}`);
  const totals = await store.collection(USAGE_SLOTS).getMany("runner", [1, 4, 7].map((n) => keys.slot("2026-11-02", n)));
  assert.deepEqual(totals.map((slot) => slot?.cells[0].requests), [1, 4, 7]);
  const heads = store.collection(USAGE_HEADS);
  assert.equal((await heads.get("runner", keys.head("2026-11-02")))?.slot, 7);
  const fresh = () => createDayLedger(replicaStore());
  assert.deepEqual((await fresh().read("runner", "2026-11-02")).map((c) => [c.requests, c.costNanoUsd]), [[7, 70]]);
  await heads.put("runner", keys.head("2026-11-02"), { day: "2026-11-02", slot: 2, expiresAt });
  assert.equal((await fresh().read("runner", "2026-11-02"))[0]?.requests, 7, "a head that went back");
  assert.ok(await heads.remove("runner", keys.head("2026-11-02")));
  assert.equal((await fresh().read("runner", "2026-11-02"))[0]?.requests, 7, "no head at all");
  await commitAndHead(fresh(), "run-8");
  assert.equal((await heads.get("runner", keys.head("2026-11-02")))?.slot, 8, "the next commit points it at its slot");
  assert.equal((await fresh().read("runner", "2026-11-02"))[0]?.requests, 8);
  assert.deepEqual(await ledger.read("runner", "2026-11-03"), [], "a day without usage");
});

test("a batch is decided once: aborted before it commits it never commits; committed it cannot be aborted", async () => {
  const ledger = createDayLedger(store);
  assert.equal(await ledger.decide("judge", "batch-late", expiresAt), "aborted");
  const outcome = async (commit: Promise<{ outcome: string }>) => (await commit).outcome;
  assert.equal(await outcome(ledger.commit("judge", "2026-11-04", "batch-late", [cell("s", 1, 1)], expiresAt)), "aborted");
  assert.equal(await outcome(ledger.commit("judge", "2026-11-04", "batch-done", [cell("s", 1, 1)], expiresAt)), "committed");
  assert.equal(await ledger.decide("judge", "batch-done", expiresAt), "committed");
  assert.equal(await outcome(ledger.commit("judge", "2026-11-04", "batch-done", [cell("s", 1, 1)], expiresAt)), "committed", "a repeated commit is the same commit");
  const decisions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2
    ? ledger.decide("judge", "batch-raced", expiresAt)
    : outcome(createDayLedger(replicaStore()).commit("judge", "2026-11-04", "batch-raced", [cell("s", 1, 1)], expiresAt)))));
  assert.equal(new Set(decisions).size, 1, `one decision for every racer: ${decisions.join(",")}`);
  const expected = decisions[0] === "committed" ? 2 : 1;
  assert.equal((await ledger.read("judge", "2026-11-04"))[0]?.requests, expected);
});

test("a tenant whose id is a prefix of another's never reads the other's ledger", async () => {
  const ledger = createDayLedger(store);
  await ledger.commit("acme", "2026-11-05", "acme-1", [cell("s", 1, 1)], expiresAt);
  await ledger.commit("acme-eu", "2026-11-05", "acme-eu-1", [cell("s", 5, 5)], expiresAt);
  assert.deepEqual((await ledger.read("acme", "2026-11-05")).map((c) => c.requests), [1]);
  assert.deepEqual((await ledger.read("acme-eu", "2026-11-05")).map((c) => c.requests), [5]);
  assert.deepEqual(await ledger.read("acme-e", "2026-11-05"), []);
});
