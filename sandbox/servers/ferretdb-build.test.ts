import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { useIdIndexForLookups } from "./cache.ts";

const root = await mkdtemp(join(tmpdir(), "ferretdb-src-"));
after(() => rm(root, { recursive: true, force: true }));
const metadataFile = join(root, "internal", "backends", "sqlite", "metadata", "metadata.go");
await mkdir(join(root, "internal", "backends", "sqlite", "metadata"), { recursive: true });

test("the FerretDB build looks _id up with the expression its _id index was created on", async () => {
  await writeFile(metadataFile, `const (\n\tIDColumn = DefaultColumn + "->'$._id'"\n\tRecordIDColumn = "x"\n)\n`);
  await useIdIndexForLookups(root);
  assert.equal(await readFile(metadataFile, "utf8"), `const (\n\tIDColumn = DefaultColumn + "->\\"_id\\""\n\tRecordIDColumn = "x"\n)\n`);
});

test("a FerretDB source without the expected line fails the build loudly instead of building unfixed", async () => {
  await writeFile(metadataFile, `const IDColumn = DefaultColumn + "->'$.id'"\n`);
  await assert.rejects(useIdIndexForLookups(root), /cannot apply the _id lookup fix/);
});
