import assert from "node:assert/strict";
import { test } from "node:test";
import { headers as createHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { HEADERS } from "../../protocol/headers.ts";
import { llmContract } from "../../protocol/llm.ts";
import { deadLetterStreamName, streamName } from "../../protocol/subjects.ts";
import { DLQ_HEADERS } from "../../runtime/events/dead-letter.ts";
import { readStream } from "../../runtime/events/test-support.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { untilSettled } from "../llm/test-support.ts";
import { codeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const { nc, capacity, putTenant } = await startCapacityMesh(servers, { replicas: 2 });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const SUBJECT = llmContract.events.settlement.subject;

/** Publishes a settlement as any producer could, under its own message id (no stream de-duplication between them). */
async function publishSettlement(msgId: string, headerTenant: string, payload: Record<string, unknown>): Promise<void> {
  const headers = createHeaders();
  headers.set(HEADERS.tenant, headerTenant);
  await js.publish(SUBJECT, JSON.stringify(payload), { msgID: msgId, headers });
}

test("a settlement event settles its lease once: repeats under other ids, even with other usage, change nothing", async () => {
  // 1 200 tokens a minute: 20 a second of refill, small next to the 800 tokens settling returns.
  await putTenant("repeat", { limits: { requestsPerMinute: 100, tokensPerMinute: 1200 } });
  const tenant = { tenant: "repeat" };
  const leasedAt = Date.now();
  const lease = await capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 1000 }, tenant);
  // 100 prompt tokens at $2.50 and 100 completion tokens at $10 per million: $0.00125.
  const settlement = { tenant: "repeat", leaseId: lease.leaseId, promptTokens: 100, completionTokens: 100, requests: 1 };
  await publishSettlement(`settle-${lease.leaseId}`, "repeat", settlement);
  await publishSettlement(`settle-${lease.leaseId}`, "repeat", settlement); // the stream drops this one
  await publishSettlement(`copy-${lease.leaseId}`, "repeat", settlement);
  await publishSettlement(`other-${lease.leaseId}`, "repeat", { ...settlement, promptTokens: 900, completionTokens: 900 });
  await untilSettled(jsm);
  const status = await capacity.status({}, tenant);
  assert.equal(status.spentUsd, 0.00125);
  assert.equal(status.reservedUsd, 0);
  const refill = ((Date.now() - leasedAt) * 1200) / 60_000;
  assert.ok(status.tokensAvailable <= 1000 + refill, `the used tokens stay taken, the unused grant came back once: ${status.tokensAvailable}`);
  const direct = await capacity.settle({ leaseId: lease.leaseId, promptTokens: 100, completionTokens: 100 }, tenant);
  assert.equal(direct.alreadySettled, true, "the request path sees the same single settlement");
});

test("bad settlements are dead-lettered with their reason and change nothing: unknown lease, another tenant's lease, negative tokens, mismatched tenant, released lease", async () => {
  await putTenant("victim");
  await putTenant("intruder");
  const lease = await capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 1000 }, { tenant: "victim" });
  const released = await capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 1000 }, { tenant: "victim" });
  await capacity.release({ leaseId: released.leaseId }, { tenant: "victim" });
  const usage = { promptTokens: 10, completionTokens: 10, requests: 1 };
  await publishSettlement("bad-unknown", "victim", { tenant: "victim", leaseId: "no-such-lease", ...usage });
  await publishSettlement("bad-foreign", "intruder", { tenant: "intruder", leaseId: lease.leaseId, ...usage });
  await publishSettlement("bad-negative", "victim", { tenant: "victim", leaseId: lease.leaseId, ...usage, promptTokens: -5 });
  await publishSettlement("bad-mismatch", "intruder", { tenant: "victim", leaseId: lease.leaseId, ...usage });
  await publishSettlement("bad-released", "victim", { tenant: "victim", leaseId: released.leaseId, ...usage });
  await untilSettled(jsm);

  const letters = (await readStream(jsm, deadLetterStreamName("ai-capacity"))).filter((message) => message.subject === `dlq.ai-capacity.${SUBJECT}`);
  const reasons = Object.fromEntries(letters.map((message) => [message.header.get(HEADERS.eventId), message.header.get(DLQ_HEADERS.reason)]));
  assert.match(reasons["bad-unknown"] ?? "", /^handler: NOT_FOUND/);
  assert.match(reasons["bad-foreign"] ?? "", /^handler: NOT_FOUND/, "a lease is found only in its own tenant's record");
  assert.match(reasons["bad-negative"] ?? "", /^schema/);
  assert.match(reasons["bad-mismatch"] ?? "", /^handler: BAD_REQUEST/);
  assert.match(reasons["bad-released"] ?? "", /^handler: CONFLICT/);

  const victim = await capacity.status({}, { tenant: "victim" });
  assert.equal(victim.spentUsd, 0);
  assert.equal(victim.reservedUsd, 0.01, "the open lease is untouched, still reserved");
  assert.equal((await capacity.status({}, { tenant: "intruder" })).spentUsd, 0);
  assert.equal(await codeOf(capacity.release({ leaseId: lease.leaseId }, { tenant: "victim" })), "OK");
});
