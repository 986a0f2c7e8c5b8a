import { test } from "node:test";
import assert from "node:assert/strict";
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs } from "@nats-io/nats-core";
import { MsgHdrsImpl } from "@nats-io/nats-core/internal";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { isMeshError } from "../errors.ts";
import { fixtureActor } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";
import { headerBlockText } from "../pipeline/header-block.ts";
import { readRawMetaOf, readRequestMetaOf } from "./request-header-text.ts";
import { newTraceparent, type RawMeta } from "./request-headers.ts";

const servers = await useTestServers();
const nc = await servers.connectNats();
const encoder = new TextEncoder();

/** Headers that publish exactly these bytes: lets a test send blocks nats-core's `headers()` would not build. */
function rawBlock(block: string | Uint8Array): MsgHdrs {
  const bytes = typeof block === "string" ? encoder.encode(block) : block;
  return { encode: () => bytes } as unknown as MsgHdrs;
}

/** Received through nats-server, as a replica receives a request. */
async function receive(block: string | Uint8Array | undefined): Promise<Msg> {
  const subject = createInbox();
  const subscription = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, "{}", block === undefined ? {} : { headers: rawBlock(block) });
  for await (const msg of subscription) return msg;
  throw new Error("subscription closed without a message");
}

const NOW = Date.now();
const DEADLINE = String(NOW + 2_000);
const TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TENANT_INFO = JSON.stringify({ name_tag: "alice", tags: ["mw-tenant:acme"] });
const block = (...lines: string[]) => `NATS/1.0\r\n${lines.map((line) => `${line}\r\n`).join("")}\r\n`;
const raw = (fields: Partial<RawMeta>): RawMeta => ({ tenant: "", idempotencyKey: "", service: "", traceparent: "", deadline: "", timeout: "", requestInfo: "", ...fields });

/** Each block, and what either path must read from it (raw values), or the error code. */
const CASES: Array<[string, string | Uint8Array | undefined, RawMeta | string]> = [
  ["no headers at all", undefined, raw({})],
  ["the mesh client's headers", block(`Mw-Deadline: ${DEADLINE}`, "Mw-Tenant: acme", `traceparent: ${TRACE}`, "Mw-Service: tests", "Mw-Idempotency-Key: k-1"),
    raw({ deadline: DEADLINE, tenant: "acme", traceparent: TRACE, service: "tests", idempotencyKey: "k-1" })],
  ["names in any case", block("mw-tenant: acme", "MW-SERVICE: tests", `TraceParent: ${TRACE}`, "mw-TIMEOUT-ms: 250"), raw({ tenant: "acme", service: "tests", traceparent: TRACE, timeout: "250" })],
  ["a repeated name: the first value", block("Mw-Tenant: first", "Mw-Tenant: second"), raw({ tenant: "first" })],
  ["a name in two spellings: the first seen", block("mw-tenant: lower", "Mw-Tenant: canonical", "mw-tenant: again"), raw({ tenant: "lower" })],
  ["an empty first value, then another spelling", block("Mw-Tenant:   ", "mw-tenant: acme"), raw({ tenant: "acme" })],
  ["an empty first value, then the same spelling", block("Mw-Tenant:", "Mw-Tenant: acme"), raw({})],
  ["an empty first value, the same spelling, then another", block("Mw-Tenant:", "Mw-Tenant: globex", "MW-TENANT: acme"), raw({ tenant: "acme" })],
  ["whitespace around values, none after the colon", block("Mw-Tenant: \t acme \t ", "Mw-Service:tests", "Mw-Timeout-Ms:\u00a0300\u00a0"), raw({ tenant: "acme", service: "tests", timeout: "300" })],
  ["colons in values", block("Mw-Idempotency-Key: a:b::c", "X-Other: Mw-Tenant: globex", "Mw-Tenant:acme"), raw({ idempotencyKey: "a:b::c", tenant: "acme" })],
  ["lines without a colon and empty lines", `NATS/1.0\r\nno colon here\r\n\r\nMw-Tenant: acme\r\n: nameless\r\n\r\n`, raw({ tenant: "acme" })],
  ["the last line without its line break", "NATS/1.0\r\nMw-Tenant: acme", raw({ tenant: "acme" })],
  ["a forged request info in another spelling", block(`nats-request-info: ${TENANT_INFO}`, `NATS-REQUEST-INFO: ${TENANT_INFO}`, "Mw-Tenant: globex"), raw({ tenant: "globex" })],
  ["request info in its exact spelling, first one counts", block(`Nats-Request-Info: ${TENANT_INFO}`, "Nats-Request-Info: later", "Mw-Tenant: acme"), raw({ requestInfo: TENANT_INFO, tenant: "acme" })],
  ["unreadable request info", block("Nats-Request-Info: {not json", "Mw-Tenant: acme"), "FORBIDDEN"],
  ["a status line only", "NATS/1.0 503\r\n\r\n", raw({})],
  ["a status line with a description and a colon", "NATS/1.0 408 Mw-Tenant: acme\r\n\r\n", raw({})],
  ["a status line and headers", "NATS/1.0 100 Idle Heartbeat\r\nMw-Tenant: acme\r\n\r\n", raw({ tenant: "acme" })],
  ["an invalid tenant", block("Mw-Tenant: NOT A TENANT"), "BAD_REQUEST"],
  ["a tenant too long", block(`Mw-Tenant: ${"a".repeat(64)}`), "BAD_REQUEST"],
  ["a deadline that is not a number", block("Mw-Tenant: acme", "Mw-Deadline: yesterday"), "BAD_REQUEST"],
  ["a deadline in seconds", block("Mw-Tenant: acme", "Mw-Deadline: 1700000000"), "BAD_REQUEST"],
  ["a negative timeout", block("Mw-Tenant: acme", "Mw-Timeout-Ms: -5"), "BAD_REQUEST"],
  ["a timeout in exponent notation", block("Mw-Tenant: acme", "Mw-Timeout-Ms: 1e3"), raw({ tenant: "acme", timeout: "1e3" })],
  ["a malformed traceparent", block("Mw-Tenant: acme", "traceparent: garbage"), "BAD_REQUEST"],
  ["an idempotency key with a space", block("Mw-Tenant: acme", "Mw-Idempotency-Key: two words"), "BAD_REQUEST"],
  ["a name with a space before the colon", block("Mw-Tenant : acme"), "BAD_REQUEST"],
  ["a name with a letter outside ASCII", block("Mw-Ténant: acme"), "BAD_REQUEST"],
  ["a value outside ASCII and invalid UTF-8 in another header", Uint8Array.from([...encoder.encode("NATS/1.0\r\nMw-Service: caf\u00e9\r\nX-Bytes: "), 0xff, 0xfe, ...encoder.encode("\r\nMw-Tenant: acme\r\n\r\n")]), "BAD_REQUEST"],
  ["invalid UTF-8 in a header the mesh does not read", Uint8Array.from([...encoder.encode("NATS/1.0\r\nX-Bytes: "), 0xff, 0xc0, 0x80, ...encoder.encode("\r\nMw-Tenant: acme\r\n\r\n")]), raw({ tenant: "acme" })],
  ["a lone line feed inside a value", block("Mw-Tenant: ac\nme"), "BAD_REQUEST"],
  ["a lone carriage return inside another header's value", block("Mw-Tenant: acme", "X-Other: a\rb"), "BAD_REQUEST"],
  ["a lone line feed at a value's end (trimmed away)", block("Mw-Tenant: acme\n", "X-Other: b\r"), raw({ tenant: "acme" })],
];

type Outcome = { raw: RawMeta; meta: Record<string, unknown> } | { code: string; message: string };

/** A random traceparent (made for a request that has none) is left out of the comparison. */
function outcome(msg: Msg): Outcome {
  try {
    const rawMeta = readRawMetaOf(msg);
    const meta: Record<string, unknown> = { ...readRequestMetaOf(msg, NOW, 5000) };
    if (!rawMeta.traceparent) {
      assert.match(String(meta.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      meta.traceparent = meta.traceId = "generated";
    }
    return { raw: rawMeta, meta };
  } catch (error) {
    assert.ok(isMeshError(error), `a typed error, not ${String(error)}`);
    return { code: error.code, message: error.message };
  }
}

/** The same message as a client exposing only the public API sees it. */
function publicOnly(msg: Msg): Msg {
  return { get headers() { return msg.headers; } } as unknown as Msg;
}

test("the header block's text and nats-core's decoded headers give the same meta, or the same typed error", async () => {
  for (const [name, sent, expected] of CASES) {
    const msg = await receive(sent);
    assert.notEqual(headerBlockText(msg), undefined, `${name}: read from the block's text`);
    const viaText = outcome(msg);
    assert.equal((msg as unknown as { _headers?: unknown })._headers, undefined, `${name}: nats-core decoded nothing`);
    const viaPublicApi = outcome(publicOnly(msg));
    assert.deepEqual(viaText, viaPublicApi, name);
    if (typeof expected === "string") assert.equal("code" in viaText && viaText.code, expected, name);
    else assert.deepEqual("raw" in viaText && viaText.raw, expected, name);
  }
});

test("a unary request is served without nats-core decoding its headers; a block nats-core refuses gets BAD_REQUEST", async () => {
  await startInProcess(fixtureActor, servers, { instanceId: "header-text" });
  const marker = `probe-${Math.random().toString(36).slice(2)}`;
  const decoded: string[] = [];
  const decode = MsgHdrsImpl.decode;
  MsgHdrsImpl.decode = (bytes: Uint8Array) => {
    decoded.push(Buffer.from(bytes).toString("latin1"));
    return decode.call(MsgHdrsImpl, bytes);
  };
  try {
    // The probe sees a decode: a plain subscriber's `msg.headers` read.
    const control = await receive(block(`X-Probe: ${marker}-control`));
    assert.equal(control.headers?.get("X-Probe"), `${marker}-control`);
    assert.ok(decoded.some((text) => text.includes(`${marker}-control`)), "the probe records nats-core's decode");

    const sent = natsHeaders();
    sent.set("Mw-Tenant", "acme");
    sent.set("X-Probe", marker);
    const reply = await nc.request("fixture.echo", '{"text":"hi"}', { timeout: 5000, headers: sent });
    assert.equal(reply.json<{ text: string }>().text, "hi");
    assert.deepEqual(decoded.filter((text) => text.includes(`X-Probe: ${marker}\r\n`)), [], "the replica decoded the request's headers");

    const refused = await nc.request("fixture.echo", '{"text":"hi"}', { timeout: 5000, headers: rawBlock(block("Mw-Tenant: acme", "Bad Name: x")) });
    assert.equal(refused.headers?.get("Mw-Error"), "BAD_REQUEST");
    assert.equal(refused.json<{ error: { message: string } }>().error.message, "malformed header block");
  } finally {
    MsgHdrsImpl.decode = decode;
  }
});

test("new traceparents (a request that came without one) are W3C-shaped and never repeat across entropy blocks", () => {
  const seen = new Set<string>();
  // 600 ids draw 14,400 bytes: the 6,144-byte entropy block is refilled twice.
  for (let i = 0; i < 600; i++) seen.add(newTraceparent());
  assert.equal(seen.size, 600);
  for (const id of seen) assert.match(id, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const traceIds = new Set([...seen].map((id) => id.slice(3, 35)));
  assert.equal(traceIds.size, 600, "trace ids differ as well as span ids");
});
