/**
 * `make test`: provides one MongoDB-protocol server and the nats-server binary for the
 * whole run, runs every *.test.ts file with Node's test runner, and stops what it started,
 * also on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { provideMongo, WORK_DIR } from "./servers/index.ts";
import { findNatsServerBinary } from "./servers/nats-server.ts";

const ROOT = join(WORK_DIR, "..");
const TEST_ROOTS = ["protocol", "runtime", "actors", "sandbox"];

async function findTests(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") found.push(...(await findTests(path)));
    else if (entry.isFile() && entry.name.endsWith(".test.ts")) found.push(path);
  }
  return found;
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const files = (await Promise.all(TEST_ROOTS.map((root) => findTests(join(ROOT, root))))).flat().sort()
    .map((file) => relative(ROOT, file))
    .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)));
  process.stdout.write(`provisioning servers for ${files.length} test files...\n`);
  const natsBinary = await findNatsServerBinary();
  const mongo = await provideMongo();
  const child = spawn(process.execPath, [
    "--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=300000", ...files,
  ], { cwd: ROOT, stdio: "inherit", env: { ...process.env, MONGO_URL: mongo.url, MESHWORK_NATS_SERVER_BIN: natsBinary } });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((resolve) => child.once("exit", (c, s) => resolve(c ?? (s ? 130 : 1))));
  await mongo.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`make test: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
