/**
 * Generated input against every request subject of every actor, over raw NATS: random and
 * boundary JSON, wrong types, huge strings, deep nesting, `$`-prefixed keys, binary garbage,
 * and random or malformed headers (tenant, deadline, idempotency key, traceparent). Every reply
 * must be a typed error from the closed set or an output the contract accepts, and come before
 * the caller's timeout; the actors must keep serving afterwards.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import pLimit from "p-limit";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { RequestContract } from "../protocol/contract.ts";
import { ERROR_CODES } from "../protocol/errors.ts";
import { aiCapacityContract, llmContract, tenantsContract, usageContract } from "../protocol/index.ts";
import { useTestServers } from "../sandbox/testing/test-servers.ts";
import { ask, startLlmMesh } from "./llm/test-support.ts";

const CASES_PER_SUBJECT = 1200;
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const WAIT_MS = 8000;

const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { usage: {} });
await mesh.createTenant("acme");
const subjects: RequestContract[] = [tenantsContract, aiCapacityContract, llmContract, usageContract]
  .flatMap((contract) => Object.values(contract.requests) as RequestContract[]);

const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 50 }), fc.constantFrom("", "acme", "ACME", "acme-eu", "a".repeat(200), "$where", "..", "\u0000", "gpt-4o-mini"));
const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" },
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("$gt", "$where", "_id", "tenant", "__proto__", "constructor", "model", "messages", "policy")), tie("value"), { maxKeys: 5 }),
    fc.array(tie("value"), { maxLength: 5 })),
})).value;
const nestedDeep = fc.integer({ min: 50, max: 3000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));
const body = fc.oneof(
  jsonish.map((value) => JSON.stringify(value) ?? "null"),
  fc.constantFrom("", "{}", "[]", "null", "{\"model\":\"gpt-4o-mini\",\"messages\":[]}", JSON.stringify(ask("hello"))),
  nestedDeep,
  fc.integer({ min: 100_000, max: 400_000 }).map((length) => JSON.stringify({ messages: [{ role: "user", content: "x".repeat(length) }], model: "gpt-4o-mini" })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);
const now = () => Date.now();
const headerSets = fc.record({
  tenant: fc.option(fc.oneof(fc.constantFrom("acme", "acme", "Acme", "globex", "", "a-", "x".repeat(64)), text), { nil: undefined }),
  tenantName: fc.constantFrom("Mw-Tenant", "mw-tenant", "MW-TENANT"),
  deadline: fc.option(fc.oneof(
    fc.constantFrom("soon", "-1", "0", "1e3", "12.5"),
    fc.integer({ min: 2000, max: 6000 }).map((ms) => ({ relative: ms })),
    fc.constantFrom("past", "seconds"),
  ), { nil: undefined }),
  idempotencyKey: fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom("key-1", "key-1", " ", "ü")), { nil: undefined }),
  traceparent: fc.option(fc.oneof(fc.string(), fc.constantFrom("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-zz-zz-01")), { nil: undefined }),
});

function headersOf(generated: Record<string, unknown>) {
  const h = natsHeaders();
  const set = (name: string, value: string) => {
    try {
      h.set(name, value);
    } catch {
      // a value nats.js itself refuses to send (e.g. a newline) is not a case
    }
  };
  if (typeof generated.tenant === "string") set(generated.tenantName as string, generated.tenant);
  const deadline = generated.deadline as string | { relative: number } | undefined;
  if (typeof deadline === "object") set("Mw-Timeout-Ms", String(deadline.relative));
  else if (deadline === "past") set("Mw-Deadline", String(now() - 1000));
  else if (deadline === "seconds") set("Mw-Deadline", String(Math.floor(now() / 1000) + 5));
  else if (typeof deadline === "string") set("Mw-Deadline", deadline);
  if (typeof generated.idempotencyKey === "string") set("Mw-Idempotency-Key", generated.idempotencyKey);
  if (typeof generated.traceparent === "string") set("traceparent", generated.traceparent);
  return h;
}

test(`${CASES_PER_SUBJECT} generated requests per subject get a typed error or a valid output, never silence (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  const limit = pLimit(32);
  const failures: string[] = [];
  const outcomes = new Map<string, number>();
  const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  let sent = 0;
  for (const [index, contract] of subjects.entries()) {
    const cases = fc.sample(fc.tuple(body, headerSets), { seed: SEED + index, numRuns: CASES_PER_SUBJECT });
    await Promise.all(cases.map(([payload, generated]) => limit(async () => {
      sent++;
      const describe = () => `${contract.subject} ${JSON.stringify(generated)} ${payload.slice(0, 120)}`;
      try {
        const reply = await mesh.nc.request(contract.subject, Buffer.from(payload, "latin1"), { timeout: WAIT_MS, headers: headersOf(generated) });
        const code = reply.headers?.get("Mw-Error");
        count(code ?? "OK");
        if (code) {
          const errorBody = reply.json<{ error?: { code?: string } }>();
          if (!(ERROR_CODES as readonly string[]).includes(code) || errorBody.error?.code !== code) failures.push(`untyped error ${code}: ${describe()}`);
          if (code === "INTERNAL") failures.push(`INTERNAL: ${describe()}`);
        } else if (!contract.output.safeParse(reply.json()).success) {
          failures.push(`invalid output: ${describe()}`);
        }
      } catch (error) {
        failures.push(`${String(error)}: ${describe()}`);
      }
    })));
  }
  t.diagnostic(`replies by code: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
  assert.ok(sent >= 10_000, `${sent} cases`);
  assert.ok((outcomes.get("OK") ?? 0) > 0 && (outcomes.get("BAD_REQUEST") ?? 0) > 0, "the cases reach both sides of validation");
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${sent} cases failed`);
  // Still serving as before.
  assert.match((await mesh.llm.complete(ask("still there?"), { tenant: "acme" })).content ?? "", /^reply:/);
});
