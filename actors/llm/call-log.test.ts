import assert from "node:assert/strict";
import { after, test } from "node:test";
import { pino } from "pino";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { CallLog } from "./call-log.ts";
import { CALL_LOG, type CallRecord } from "./records.ts";

const servers = await useTestServers();
const client = createMongoClient(servers.mongoUrl);
after(() => client.close());
const store = createActorStore({ client, actor: "llm-call-log", prefix: servers.databasePrefix, collections: { [CALL_LOG]: { tenantOwned: true, expires: true } } });
await store.ensureIndexes();
const raw = client.db(`${servers.databasePrefix}_llm_call_log`).collection(CALL_LOG);

function record(index: number): CallRecord {
  const at = new Date();
  return {
    requestHash: index.toString(16).padStart(64, "0"), service: "svc", model: "gpt-4o-mini", promptTokens: 10, completionTokens: index,
    latencyMs: 1, outcome: "ok", fallback: false, at, expiresAt: new Date(at.getTime() + 86_400_000),
  };
}

function capturingLogger() {
  const lines: Array<{ msg: string; tenant?: string; records?: number }> = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

test("call records are written in batches, one record per call under its own tenant, and close writes what is left", async () => {
  const { log } = capturingLogger();
  // A flush interval no test waits for: only a full batch (1,000) and close() write.
  const callLog = new CallLog(store, log, { flushMs: 60_000, maxPending: 10_000 });
  for (let index = 0; index < 1_500; index++) await callLog.add(index % 3 === 0 ? "batch-b" : "batch-a", record(index));
  assert.equal(callLog.pending, 1_500, "nothing is written record by record");
  await callLog.close();
  assert.equal(callLog.pending, 0);
  assert.equal(await raw.countDocuments({ tenant: "batch-a" }), 1_000);
  assert.equal(await raw.countDocuments({ tenant: "batch-b" }), 500);
  const stored = await raw.find({ tenant: "batch-b" }).toArray();
  assert.equal(new Set(stored.map((doc) => doc.completionTokens)).size, 500, "each call has its own record");
  assert.ok(stored.every((doc) => doc.expiresAt instanceof Date && String(doc._id).startsWith("batch-b/")));
});

test("past its bound the log writes at once, and a caller waits until its own record is stored", async () => {
  const { log } = capturingLogger();
  const callLog = new CallLog(store, log, { flushMs: 60_000, maxPending: 10 });
  for (let index = 0; index < 10; index++) await callLog.add("bounded", record(index));
  assert.equal(await raw.countDocuments({ tenant: "bounded" }), 0, "within the bound, adds return before any write");
  await callLog.add("bounded", record(10));
  assert.equal(await raw.countDocuments({ tenant: "bounded" }), 11, "the eleventh add returned once its batch was stored");
  await callLog.close();
});

test("a batch the store refuses is logged and dropped without failing the caller or other tenants' records", async () => {
  const { log, lines } = capturingLogger();
  const callLog = new CallLog(store, log, { flushMs: 5, maxPending: 100 });
  await callLog.add("Not A Tenant!", record(1));
  await callLog.add("good-tenant", record(2));
  await callLog.close();
  assert.equal(await raw.countDocuments({ tenant: "good-tenant" }), 1);
  const warning = lines.find((line) => line.msg === "call records not stored");
  assert.equal(warning?.tenant, "Not A Tenant!");
  assert.equal(warning?.records, 1);
});
