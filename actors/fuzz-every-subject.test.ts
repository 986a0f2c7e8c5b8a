/**
 * Generated input against every request subject of every actor, over raw NATS. Two kinds of
 * case per subject: raw ones (random and boundary JSON, wrong types, huge strings, deep nesting,
 * `$`-prefixed keys, binary garbage) that mostly stop at the schema, and ones derived from the
 * contract's own input schema (sandbox/testing/schema-arbitrary.ts), a third of them edited once
 * (sandbox/testing/input-mutations.ts), that get into the handlers. Headers are random or
 * malformed (tenant, deadline, idempotency key, traceparent) for the raw cases and mostly
 * well-formed for the derived ones. Every reply must be a typed error from the closed set or an
 * output the contract accepts, and come before the caller's timeout; the actors must keep
 * serving afterwards, and their memory must not grow.
 *
 * Memory: the actors run in a process of their own (sandbox/testing/fuzz-mesh-main.ts), so what
 * is read is theirs alone, not the generated cases or this file's bookkeeping. After the warm-up
 * batches (which fill the pools, caches and JIT code that any load fills once) and again after the
 * other batches, that process collects garbage (full, twice) and reports its V8 heap in use. The
 * heap, not the resident set: RSS moves by megabytes with glibc's arenas and the pages V8 keeps
 * (sandbox/bench/README.md), while the used heap after a full GC is what is still reachable, so
 * anything a case leaves reachable shows there (the llm tokenizer's bounded cache is off in that
 * process, see there): MAX_HEAP_GROWTH_BYTES over the 10,000 cases after the warm-up is
 * a leak of 315 bytes per case. Without a leak the reading moved by +0.5 to +1.4 MiB in our runs
 * (JIT code and feedback for paths first taken after the warm-up, MongoDB connections a busier
 * moment adds to a pool; after a warm-up of one batch instead of two, +1.2 to +2.2 MiB), so a
 * leak of a few hundred bytes per case fails it; FUZZ_MESH_LEAK_BYTES
 * (sandbox/testing/fuzz-mesh-main.ts) shows it. The readings are taken with the consumers
 * drained, so events still on their way are not counted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import pLimit from "p-limit";
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import type { RequestContract } from "../protocol/contract.ts";
import { ERROR_CODES } from "../protocol/errors.ts";
import { HEADER_LIMITS } from "../protocol/headers.ts";
import { aiCapacityContract, CompletionChunk, llmContract, STREAM_HEADERS, tenantsContract, usageContract } from "../protocol/index.ts";
import { actorClient, MeshClient } from "../runtime/index.ts";
import { startMeasuredProcess } from "../sandbox/bench/measured-process.ts";
import { startTestProvider } from "../sandbox/provider/test-provider.ts";
import { OPERATOR_USER } from "../sandbox/creds/identity-plan.ts";
import { WORK_DIR } from "../sandbox/servers/index.ts";
import type { FuzzMeshConfig } from "../sandbox/testing/fuzz-mesh-main.ts";
import { mutated } from "../sandbox/testing/input-mutations.ts";
import { schemaArbitrary } from "../sandbox/testing/schema-arbitrary.ts";
import { useTestServers } from "../sandbox/testing/test-servers.ts";
import { ask, TEST_POLICY, untilSettled, untilUsageConsumed } from "./llm/test-support.ts";

const RAW_CASES_PER_SUBJECT = 700;
const DERIVED_CASES_PER_SUBJECT = 700;
const BATCHES = 7;
/** Memory is read after these first batches (4,000 cases) and again after the others (10,000). */
const WARM_UP_BATCHES = 2;
const MAX_HEAP_GROWTH_BYTES = 3 * 1024 * 1024;
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const WAIT_MS = 25_000;
const FUZZ_MESH_MAIN = fileURLToPath(new URL("../sandbox/testing/fuzz-mesh-main.ts", import.meta.url));

const servers = await useTestServers();
const provider = await startTestProvider();
servers.onCleanup(() => provider.stop());
const meshConfig: FuzzMeshConfig = {
  natsUrl: servers.natsUrl, mongoUrl: servers.mongoUrl, databasePrefix: servers.databasePrefix, providerBaseURL: provider.baseURL,
  creds: Object.fromEntries(["tenants", "ai-capacity", "llm", "usage"].map((actor) => [actor, servers.credentials.credsFiles[actor]!])),
  operatorCreds: servers.credentials.credsFiles[OPERATOR_USER]!,
};
const actorsProcess = await startMeasuredProcess({
  nodeFlags: ["--import", "tsx"], script: FUZZ_MESH_MAIN, args: [], env: { FUZZ_MESH: JSON.stringify(meshConfig) }, readyText: "ready",
  logFile: join(WORK_DIR, "test", `fuzz-mesh-${servers.databasePrefix}.log`), gcHook: true, gcSettleMs: 0,
});
servers.onCleanup(() => actorsProcess.stop());
const nc = await servers.connectNats();
const jsm = await jetstreamManager(nc);
const mesh = new MeshClient(nc, { service: "test-app", defaultTimeoutMs: 20_000 });
// A budget no run can spend, so that calls late in the run get as deep as the first ones.
await actorClient(mesh, tenantsContract).put({ policy: { ...TEST_POLICY, budget: { amountUsd: 1_000_000, period: "month" } }, expectedVersion: 0 }, { tenant: "acme" });
const subjects: RequestContract[] = [tenantsContract, aiCapacityContract, llmContract, usageContract]
  .flatMap((contract) => Object.values(contract.requests) as RequestContract[]);

// Raw cases.
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 50 }), fc.constantFrom("", "acme", "ACME", "acme-eu", "a".repeat(200), "$where", "..", "\u0000", "gpt-4o-mini"));
const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" },
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("$gt", "$where", "_id", "tenant", "__proto__", "constructor", "model", "messages", "policy")), tie("value"), { maxKeys: 5 }),
    fc.array(tie("value"), { maxLength: 5 })),
})).value;
const nestedDeep = fc.integer({ min: 50, max: 3000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));
const rawBody = fc.oneof(
  jsonish.map((value) => JSON.stringify(value) ?? "null"),
  fc.constantFrom("", "{}", "[]", "null", "{\"model\":\"gpt-4o-mini\",\"messages\":[]}", JSON.stringify(ask("hello"))),
  nestedDeep,
  fc.integer({ min: 100_000, max: 400_000 }).map((length) => JSON.stringify({ messages: [{ role: "user", content: "x".repeat(length) }], model: "gpt-4o-mini" })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);
const now = () => Date.now();
const rawHeaders = fc.record({
  tenant: fc.option(fc.oneof(fc.constantFrom("acme", "acme", "Acme", "globex", "", "a-", "x".repeat(64)), text), { nil: undefined }),
  tenantName: fc.constantFrom("Mw-Tenant", "mw-tenant", "MW-TENANT"),
  deadline: fc.option(fc.oneof(
    fc.constantFrom("soon", "-1", "0", "1e3", "12.5"),
    // Well-formed relative deadlines are long: under load a raw case valid by chance can take seconds.
    fc.integer({ min: 10_000, max: 20_000 }).map((ms) => ({ relative: ms })),
    fc.constantFrom("past", "seconds"),
  ), { nil: undefined }),
  idempotencyKey: fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom("key-1", "key-1", " ", "ü")), { nil: undefined }),
  traceparent: fc.option(fc.oneof(fc.string(), fc.constantFrom("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-zz-zz-01")), { nil: undefined }),
});

// Derived cases: valid by the contract, with the names that exist in this mesh mixed in.
const recentDay = fc.integer({ min: -40, max: 1 }).map((days) => new Date(now() + days * 86_400_000).toISOString().slice(0, 10));
const hints = {
  model: fc.constantFrom("gpt-4o-mini", "gpt-4o", "unpriced-model"),
  service: fc.constantFrom("fuzz", "fuzz-b"),
  name: fc.constant("lookup"),
  content: fc.constantFrom("hello", "what is 2+2?", ""),
  from: recentDay,
  to: recentDay,
};
/** acme's policy stays as created (policies put by the cases go to other tenants), so that every case gets as deep with it. */
const derivedHeaders = (contract: RequestContract) => fc.record({
  tenant: contract === tenantsContract.requests.put
    ? fc.oneof(fc.constantFrom("globex", "initech"), fc.stringMatching(HEADER_LIMITS.tenant).filter((tenant) => tenant !== "acme"))
    : fc.oneof({ arbitrary: fc.constant("acme"), weight: 6 }, fc.constantFrom("globex", "initech"), fc.stringMatching(HEADER_LIMITS.tenant)),
  tenantName: fc.constantFrom("Mw-Tenant", "mw-tenant"),
  // Generous: on 2 shared cores a deep case can take seconds, and work still running at its deadline gets no reply by design.
  deadline: fc.integer({ min: 15_000, max: 20_000 }).map((ms) => ({ relative: ms })),
  idempotencyKey: fc.option(fc.constantFrom("key-1", "key-2", "key-3"), { nil: undefined, freq: 2 }),
  traceparent: fc.option(fc.constant("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), { nil: undefined }),
});
/** Provider signals name other models: a generated rate-limit signal cools its model down for up to an hour. */
const hintsFor = (contract: RequestContract) => contract === aiCapacityContract.requests.signal ? { ...hints, model: fc.constantFrom("small-model", "large-model") } : hints;
function derivedBody(contract: RequestContract): fc.Arbitrary<string> {
  const valid = schemaArbitrary(contract.input, { hints: hintsFor(contract) });
  return fc.oneof({ arbitrary: valid, weight: 2 }, mutated(valid)).map((value) => JSON.stringify(value))
    // A body nats.js would refuse to send (over the server's 1 MiB) is not a case; over 256 KiB it is one the actor refuses.
    .filter((body) => Buffer.byteLength(body) < 1_000_000);
}

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

/**
 * A request to a streaming subject: its chunks, in order, then its final reply (the message with
 * Mw-Stream-Chunks). Rejects when nothing final came within WAIT_MS.
 */
async function requestStream(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<{ chunks: Msg[]; final: Msg }> {
  const inbox = createInbox();
  const chunks: Msg[] = [];
  const subscription = nc.subscribe(inbox);
  const timer = setTimeout(() => subscription.unsubscribe(), WAIT_MS);
  try {
    nc.publish(subject, payload, { reply: inbox, headers });
    for await (const msg of subscription) {
      if (!msg.headers?.has(STREAM_HEADERS.chunks)) {
        chunks.push(msg);
        continue;
      }
      subscription.unsubscribe();
      return { chunks, final: msg };
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`TimeoutError: no final reply from ${subject} within ${WAIT_MS} ms`);
}

interface Case {
  readonly contract: RequestContract;
  readonly kind: "raw" | "derived";
  readonly payload: string;
  readonly headers: Record<string, unknown>;
}

/** Every subject's cases, cut into BATCHES slices; batch i holds slice i of every subject. */
function generateBatches(): Case[][] {
  const batches: Case[][] = Array.from({ length: BATCHES }, () => []);
  for (const [index, contract] of subjects.entries()) {
    const raw = fc.sample(fc.tuple(rawBody, rawHeaders), { seed: SEED + index, numRuns: RAW_CASES_PER_SUBJECT })
      .map(([payload, headers]): Case => ({ contract, kind: "raw", payload, headers }));
    const derived = fc.sample(fc.tuple(derivedBody(contract), derivedHeaders(contract)), { seed: SEED + 1000 + index, numRuns: DERIVED_CASES_PER_SUBJECT })
      .map(([payload, headers]): Case => ({ contract, kind: "derived", payload, headers }));
    const cases = raw.flatMap((rawCase, i) => [rawCase, derived[i]!]);
    cases.forEach((one, i) => batches[Math.floor((i * BATCHES) / cases.length)]!.push(one));
  }
  return batches;
}

/**
 * The actors' heap in use after a full GC, once every event the cases caused has been consumed:
 * the lower of two readings, since work finishing in the background (a share settling, a socket's
 * buffer) only ever adds to one.
 */
async function actorHeapUsed(): Promise<number> {
  await untilUsageConsumed(jsm);
  await untilSettled(jsm);
  const first = (await actorsProcess.memoryAfterGc()).heapUsed;
  return Math.min(first, (await actorsProcess.memoryAfterGc()).heapUsed);
}

test(`${RAW_CASES_PER_SUBJECT + DERIVED_CASES_PER_SUBJECT} generated requests per subject get a typed error or a valid output, never silence, and leave the actors' memory flat (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  const limit = pLimit(32);
  const failures: string[] = [];
  const outcomes = new Map<string, number>();
  const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  const runCase = async ({ contract, kind, payload, headers }: Case) => {
    const describe = () => `${contract.subject} (${kind}) ${JSON.stringify(headers)} ${payload.slice(0, 160)}`;
    try {
      const data = Buffer.from(payload, kind === "raw" ? "latin1" : "utf8");
      let reply: Msg;
      if (contract.streaming) {
        const { chunks, final } = await requestStream(contract.subject, data, headersOf(headers));
        reply = final;
        const seqs = chunks.map((chunk) => chunk.headers?.get(STREAM_HEADERS.seq));
        if (String(chunks.length) !== final.headers?.get(STREAM_HEADERS.chunks) || seqs.some((seq, i) => seq !== String(i + 1))
          || !chunks.every((chunk) => CompletionChunk.safeParse(chunk.json()).success)) failures.push(`stream out of order or malformed: ${describe()}`);
      } else {
        reply = await nc.request(contract.subject, data, { timeout: WAIT_MS, headers: headersOf(headers) });
      }
      const code = reply.headers?.get("Mw-Error") || undefined;
      count(`${kind} ${code ?? "OK"}`);
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
  };

  const batches = generateBatches();
  const warmUp = batches.slice(0, WARM_UP_BATCHES).flat();
  const measured = batches.slice(WARM_UP_BATCHES);
  await Promise.all(warmUp.map((one) => limit(() => runCase(one))));
  const heapAfterWarmUp = await actorHeapUsed();
  let measuredCases = 0;
  for (const batch of measured) {
    await Promise.all(batch.map((one) => limit(() => runCase(one))));
    measuredCases += batch.length;
  }
  const heapAfterAll = await actorHeapUsed();

  const sent = warmUp.length + measuredCases;
  const growth = heapAfterAll - heapAfterWarmUp;
  t.diagnostic(`replies by kind and code: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
  t.diagnostic(`actors' heap used after a full GC: ${(heapAfterWarmUp / 1048576).toFixed(2)} MiB after the ${warmUp.length} warm-up cases, `
    + `${(heapAfterAll / 1048576).toFixed(2)} MiB after ${measuredCases} more (${growth >= 0 ? "+" : ""}${(growth / 1024).toFixed(0)} KiB, ${(growth / measuredCases).toFixed(1)} bytes per case)`);
  assert.ok(sent >= 10_000 && measuredCases >= 10_000, `${sent} cases, ${measuredCases} after the warm-up`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${sent} cases failed`);
  const derivedPastValidation = [...outcomes].filter(([outcome]) => outcome.startsWith("derived ") && outcome !== "derived BAD_REQUEST").reduce((sum, [, n]) => sum + n, 0);
  assert.ok((outcomes.get("raw BAD_REQUEST") ?? 0) > 0 && derivedPastValidation > subjects.length * DERIVED_CASES_PER_SUBJECT / 3,
    `the cases reach both sides of validation (${derivedPastValidation} derived cases past it)`);
  assert.ok(!actorsProcess.hasExited(), "the actors' process is still running");
  assert.ok(growth < MAX_HEAP_GROWTH_BYTES, `the actors' heap grew ${growth} bytes over ${measuredCases} cases`);
  // Still serving as before.
  const answer = await actorClient(mesh, llmContract).complete(ask("still there?"), { tenant: "acme" });
  assert.match(answer.content ?? "", /^reply:/);
});
