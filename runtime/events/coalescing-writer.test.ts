import { test } from "node:test";
import assert from "node:assert/strict";
import { coalescingWriter } from "./coalescing-writer.ts";

test("ids queued while a write runs go together into the next write, at most maxBatch each", async () => {
  const writes: string[][] = [];
  const writer = coalescingWriter<string>(async (ids) => {
    writes.push(ids);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }, { maxBatch: 4, lingerMs: 5 });
  const first = writer.add("a");
  await new Promise((resolve) => setTimeout(resolve, 10));
  const rest = "bcdefg".split("").map((id) => writer.add(id));
  assert.equal(writer.backlog, 7);
  await Promise.all([first, ...rest]);
  assert.deepEqual(writes, [["a"], ["b", "c", "d", "e"], ["f", "g"]]);
  assert.equal(writer.backlog, 0);
});

test("bad input: a failed write rejects only the ids it carried; the next write goes on", async () => {
  let calls = 0;
  const writer = coalescingWriter(async () => {
    if (++calls === 1) throw new Error("disk full");
  }, { maxBatch: 10, lingerMs: 1 });
  const failed = [writer.add("x"), writer.add("y")];
  assert.equal(failed[0], failed[1], "one promise per write");
  await assert.rejects(failed[0]!, /disk full/);
  await writer.add("z");
  assert.equal(calls, 2);
});
