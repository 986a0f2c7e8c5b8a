import assert from "node:assert/strict";
import { test } from "node:test";
import { BufferedResponse } from "./buffered-response.ts";

const json = '{"answer":"ünïcode","n":42}';
const answer = (text = json) => new BufferedResponse(Buffer.from(text), { status: 200, statusText: "OK", headers: { "content-type": "application/json", "x-request-id": "req-1" } });

test("it reads as the built-in Response with the same bytes does", async () => {
  for (const read of ["text", "json", "arrayBuffer", "blob"] as const) {
    const ours = answer();
    const builtIn = new Response(Buffer.from(json), { status: 200, headers: { "content-type": "application/json" } });
    const [a, b] = [await ours[read](), await builtIn[read]()];
    if (read === "blob") {
      assert.equal(await (a as Blob).text(), await (b as Blob).text());
      assert.equal((a as Blob).type, "application/json");
    } else if (read === "arrayBuffer") assert.deepEqual(Buffer.from(a as ArrayBuffer), Buffer.from(b as ArrayBuffer));
    else assert.deepEqual(a, b, read);
  }
  const ours = answer();
  assert.ok(ours instanceof Response);
  assert.equal(ours.status, 200);
  assert.equal(ours.ok, true);
  assert.equal(ours.headers.get("x-request-id"), "req-1");
  assert.equal(await new Response(ours.body).text(), json, "the body as a stream");
  assert.equal(ours.bodyUsed, true, "reading the stream uses the body");
  await assert.rejects(ours.text(), TypeError);

  const looked = answer();
  assert.ok(looked.body instanceof ReadableStream);
  assert.equal(looked.bodyUsed, false, "asking for the stream without reading it uses nothing");
  assert.equal(await looked.text(), json);
});

test("the body is read once, a clone reads it again, and a byte-order mark is dropped as fetch drops it", async () => {
  const response = answer();
  const copy = response.clone();
  assert.equal(response.bodyUsed, false);
  assert.deepEqual(await response.json(), { answer: "ünïcode", n: 42 });
  assert.equal(response.bodyUsed, true);
  await assert.rejects(response.text(), TypeError);
  assert.throws(() => response.clone(), TypeError);
  assert.equal(await copy.text(), json);
  assert.equal(await answer(`\uFEFF${json}`).text(), json);
});

test("a body that is not JSON rejects json() with the parser's SyntaxError, as fetch does", async () => {
  await assert.rejects(answer("<html>").json(), SyntaxError);
  await assert.rejects(new Response("<html>").json(), SyntaxError);
});
