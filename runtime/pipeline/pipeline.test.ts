import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { MeshError } from "../errors.ts";
import { classifyThrown } from "./classify.ts";
import { decodePayload, describeIssues } from "./decode.ts";

const Order = z.strictObject({ id: z.string().max(8), amount: z.number().int() });
const bytes = (text: string) => Buffer.from(text);

const decodes: Array<{ name: string; data: Uint8Array; emptyAs?: unknown; expected: { ok: true; value: unknown } | { ok: false; stage: "json" | "schema"; reason: RegExp } }> = [
  { name: "valid JSON and schema", data: bytes('{"id":"o-1","amount":3}'), expected: { ok: true, value: { id: "o-1", amount: 3 } } },
  { name: "malformed JSON", data: bytes('{"id":'), expected: { ok: false, stage: "json", reason: /^malformed JSON$/ } },
  { name: "an empty payload without emptyAs is malformed", data: new Uint8Array(), expected: { ok: false, stage: "json", reason: /malformed/ } },
  { name: "an empty payload with emptyAs is that value", data: new Uint8Array(), emptyAs: { id: "e", amount: 0 }, expected: { ok: true, value: { id: "e", amount: 0 } } },
  { name: "a wrong type names the path", data: bytes('{"id":"o-1","amount":"3"}'), expected: { ok: false, stage: "schema", reason: /^amount: / } },
  { name: "an unknown field is refused", data: bytes('{"id":"o-1","amount":3,"extra":1}'), expected: { ok: false, stage: "schema", reason: /extra/ } },
];
for (const { name, data, emptyAs, expected } of decodes) {
  test(`decodePayload: ${name}`, () => {
    const decoded = decodePayload(Order, data, emptyAs);
    if (expected.ok) {
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, expected.value);
    } else {
      assert.ok(!decoded.ok);
      assert.equal(decoded.stage, expected.stage);
      assert.match(decoded.reason, expected.reason);
    }
  });
}

test("issue descriptions never carry the payload and stay short", () => {
  const secret = "s".repeat(500);
  const result = Order.safeParse({ id: secret, amount: 1.5 });
  assert.ok(!result.success);
  const text = describeIssues(result.error.issues);
  assert.ok(!text.includes(secret));
  assert.ok(text.length <= 300);
});

const classes: Array<{ thrown: unknown; fate: string; replyCode: string; detail: RegExp }> = [
  { thrown: new MeshError("NOT_FOUND", "no order"), fate: "terminal", replyCode: "NOT_FOUND", detail: /^NOT_FOUND no order$/ },
  { thrown: new MeshError("OVERLOADED", "busy", { retryAfterMs: 50 }), fate: "retryable", replyCode: "OVERLOADED", detail: /^OVERLOADED busy$/ },
  { thrown: new MeshError("TIMEOUT", "late"), fate: "unknown-outcome", replyCode: "TIMEOUT", detail: /^TIMEOUT late$/ },
  { thrown: new Error("db password wrong"), fate: "unknown-outcome", replyCode: "INTERNAL", detail: /^INTERNAL db password wrong$/ },
];
for (const { thrown, fate, replyCode, detail } of classes) {
  test(`classifyThrown: ${String(thrown)}`, () => {
    const failure = classifyThrown(thrown);
    assert.equal(failure.fate, fate);
    assert.equal(failure.reply.code, replyCode);
    assert.match(failure.detail, detail);
    if (replyCode === "INTERNAL") assert.equal(failure.reply.message, "internal error", "the detail stays out of the reply");
  });
}
