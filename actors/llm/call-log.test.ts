import assert from "node:assert/strict";
import { after, test } from "node:test";
import { pino } from "pino";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { CallLog } from "./call-log.ts";
import { CALL_LOG, callRecordsOf, type CallLogPage, type CallRecord } from "./records.ts";

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

/** Every call record stored for `tenant`, unpacked from its pages. */
async function storedRecords(tenant: string): Promise<CallRecord[]> {
  const pages = await raw.find({ tenant }).toArray();
  return pages.flatMap((page) => callRecordsOf(page as unknown as CallLogPage));
}

function capturingLogger() {
  const lines: Array<{ msg: string; tenant?: string; records?: number }> = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

test("call records are written in pages, every call's record under its own tenant, and close writes what is left", async () => {
  const { log } = capturingLogger();
  // A flush interval no test waits for: only a full batch (1,000) and close() write.
  const callLog = new CallLog(store, log, { flushMs: 60_000, maxPending: 10_000 });
  const added = Array.from({ length: 1_500 }, (_, index) => record(index));
  for (const [index, each] of added.entries()) await callLog.add(index % 3 === 0 ? "batch-b" : "batch-a", each);
  assert.equal(callLog.pending, 1_500, "nothing is written record by record");
  await callLog.close();
  assert.equal(callLog.pending, 0);
  const pagesB = await raw.find({ tenant: "batch-b" }).toArray();
  assert.equal(pagesB.length, 1, "500 records of one tenant and batch: one page");
  assert.ok(pagesB.every((page) => page.expiresAt instanceof Date && page.at instanceof Date && String(page._id).startsWith("batch-b/")));
  const [recordsA, recordsB] = [await storedRecords("batch-a"), await storedRecords("batch-b")];
  assert.equal(recordsA.length, 1_000);
  const withoutExpiry = (records: CallRecord[]) => records.map(({ expiresAt: _expiresAt, ...rest }) => rest);
  const addedB = added.filter((_, index) => index % 3 === 0);
  assert.deepEqual(withoutExpiry(recordsB), withoutExpiry(addedB), "each call's record comes back as it was added");
  assert.ok(addedB.every((each) => each.expiresAt <= pagesB[0]!.expiresAt), "a page is kept as long as its longest-kept record");
});

test("a page's time range covers its records, so a time query on the tenant index finds them", async () => {
  const callLog = new CallLog(store, capturingLogger().log, { flushMs: 60_000, maxPending: 10_000 });
  const first = record(1);
  const later = { ...record(2), at: new Date(first.at.getTime() + 5_000) };
  await callLog.add("ranged", first);
  await callLog.add("ranged", later);
  await callLog.close();
  const found = await raw.find({ tenant: "ranged", at: { $lte: new Date(first.at.getTime() + 1_000) }, until: { $gte: first.at } }).toArray();
  assert.equal(found.length, 1);
  assert.deepEqual(found[0]!.until, later.at);
  assert.deepEqual(callRecordsOf(found[0] as unknown as CallLogPage).map((each) => each.completionTokens), [1, 2]);
});

test("past its bound the log writes at once, and a caller waits until its own record is stored", async () => {
  const { log } = capturingLogger();
  const callLog = new CallLog(store, log, { flushMs: 60_000, maxPending: 10 });
  for (let index = 0; index < 10; index++) await callLog.add("bounded", record(index));
  assert.equal((await storedRecords("bounded")).length, 0, "within the bound, adds return before any write");
  await callLog.add("bounded", record(10));
  assert.equal((await storedRecords("bounded")).length, 11, "the eleventh add returned once its batch was stored");
  await callLog.close();
});

test("a batch the store refuses is logged and dropped without failing the caller or other tenants' records", async () => {
  const { log, lines } = capturingLogger();
  const callLog = new CallLog(store, log, { flushMs: 5, maxPending: 100 });
  await callLog.add("Not A Tenant!", record(1));
  await callLog.add("good-tenant", record(2));
  await callLog.close();
  assert.equal((await storedRecords("good-tenant")).length, 1);
  const warning = lines.find((line) => line.msg === "call records not stored");
  assert.equal(warning?.tenant, "Not A Tenant!");
  assert.equal(warning?.records, 1);
});
