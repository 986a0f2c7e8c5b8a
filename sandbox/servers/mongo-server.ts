import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { buildFerretDB, whichOnPath } from "./cache.ts";
import { freePort, spawnSupervised, waitUntil } from "./supervised-process.ts";
import type { RunningServer } from "./types.ts";

export async function mongoAnswers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.connect();
    const reply = await client.db("admin").command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close();
  }
}

export interface MongoStartOptions {
  /** Reuse a data directory (and port) so a stopped server can be started again with its data. */
  dataDir?: string;
  port?: number;
  readyTimeoutMs?: number;
}

/**
 * `mongod` from the PATH if there is one, else FerretDB 1.x on SQLite from the cache.
 * No MongoDB server is packaged for the machines we test on, hence the FerretDB fallback.
 */
export async function startMongoServer(workDir: string, options: MongoStartOptions = {}): Promise<RunningServer> {
  const dir = options.dataDir ?? join(workDir, `mongo-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(join(dir, "data"), { recursive: true });
  const port = options.port ?? (await freePort());
  const logFile = join(dir, "server.log");
  const mongod = process.env.MESHWORK_USE_FERRETDB ? undefined : await whichOnPath("mongod");
  const proc = mongod
    ? spawnSupervised("mongod", mongod, ["--bind_ip", "127.0.0.1", "--port", String(port), "--dbpath", join(dir, "data")], logFile)
    : spawnSupervised("ferretdb", await buildFerretDB(), [
        "--handler=sqlite",
        `--sqlite-url=file:${join(dir, "data")}/?_pragma=synchronous(normal)&_pragma=cache_size(-65536)`, // WAL without an fsync per commit: a local fallback; a 64 MiB page cache per connection
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${port}`,
        `--debug-addr=127.0.0.1:${await freePort()}`,
        "--telemetry=disable",
        "--log-level=warn",
      ], logFile);
  const url = `mongodb://127.0.0.1:${port}/`;
  const timeout = options.readyTimeoutMs ?? 30_000;
  const ready = await waitUntil(async () => !proc.hasExited() && (await mongoAnswers(url)), timeout, 200);
  if (!ready) {
    await proc.stop(1000);
    throw new Error(`${proc.name} did not answer ping within ${timeout} ms; see its log at ${logFile}`);
  }
  return { kind: "mongo", url, logFile, dataDir: dir, stop: () => proc.stop() };
}

/** Drops every database whose name starts with `prefix` (what a test or bench run created). */
export async function dropDatabasesWithPrefix(mongoUrl: string, prefix: string): Promise<void> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 2000 });
  try {
    const { databases } = await client.db("admin").admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) {
      if (name.startsWith(prefix)) await client.db(name).dropDatabase();
    }
  } finally {
    await client.close();
  }
}
