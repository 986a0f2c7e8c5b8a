import { execFile } from "node:child_process";
import { cp, chmod, mkdir, readFile, writeFile, access, rm } from "node:fs/promises";
import { constants } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Pinned server versions. Bumping one rebuilds it once into the cache. */
export const NATS_SERVER_VERSION = "v2.12.15";
export const FERRETDB_VERSION = "v1.24.2";
/** Our build of it: the release plus the `_id` lookup fix below. Bumping it rebuilds once. */
export const FERRETDB_BUILD = `${FERRETDB_VERSION}-idlookup1`;
export const NATS_CLI_VERSION = "v0.5.0";

/** Per-user cache outside the checkout, so fresh clones on one machine reuse the Go builds. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MESHWORK_CACHE_DIR) return env.MESHWORK_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "meshwork");
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `name` on the PATH, or undefined. */
export async function whichOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function requireGo(what: string): Promise<string> {
  const go = await whichOnPath("go");
  if (!go) {
    throw new Error(
      `cannot provide ${what}: Go is not installed and no server was given. ` +
        `Install Go (1.24+), or put the server on the PATH, or set NATS_URL / MONGO_URL.`,
    );
  }
  return go;
}

function versioned(name: string, version: string): string {
  return `${name}-${version}`;
}

/** `go install module@version` into the cache; returns the binary path (reused when present). */
export async function goInstall(module: string, version: string, binary: string): Promise<string> {
  const binDir = join(cacheDir(), "bin");
  const target = join(binDir, versioned(binary, version));
  if (await isExecutable(target)) return target;
  const go = await requireGo(binary);
  const buildDir = join(cacheDir(), "build", versioned(binary, version));
  await mkdir(buildDir, { recursive: true });
  await run(go, ["install", `${module}@${version}`], {
    env: { ...process.env, GOBIN: buildDir, GOFLAGS: "-buildvcs=false" },
    maxBuffer: 16 * 1024 * 1024,
  });
  await mkdir(binDir, { recursive: true });
  await cp(join(buildDir, binary), target);
  return target;
}

/**
 * FerretDB's module omits the generated build/version/version.txt, so `go install` of it
 * panics at start. We download the module through the Go proxy, add that one file, apply the
 * `_id` lookup fix and build.
 */
export async function buildFerretDB(): Promise<string> {
  const binDir = join(cacheDir(), "bin");
  const target = join(binDir, versioned("ferretdb", FERRETDB_BUILD));
  if (await isExecutable(target)) return target;
  const go = await requireGo("FerretDB");
  const module = "github.com/FerretDB/FerretDB";
  const scratch = join(cacheDir(), "build", "ferretdb-mod");
  await mkdir(scratch, { recursive: true });
  const env = { ...process.env, GOFLAGS: "-buildvcs=false", GOMODCACHE: process.env.GOMODCACHE };
  const { stdout } = await run(go, ["mod", "download", "-json", `${module}@${FERRETDB_VERSION}`], {
    cwd: scratch,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const { Dir } = JSON.parse(stdout) as { Dir: string };
  const source = join(cacheDir(), "build", versioned("ferretdb-src", FERRETDB_VERSION));
  await rm(source, { recursive: true, force: true });
  await cp(Dir, source, { recursive: true });
  await run("chmod", ["-R", "u+w", source]);
  await writeFile(join(source, "build", "version", "version.txt"), `${FERRETDB_VERSION}\n`);
  await useIdIndexForLookups(source);
  await mkdir(binDir, { recursive: true });
  await run(go, ["build", "-o", target, "./cmd/ferretdb"], { cwd: source, env, maxBuffer: 16 * 1024 * 1024 });
  await chmod(target, 0o755);
  return target;
}

const SQLITE_METADATA = join("internal", "backends", "sqlite", "metadata", "metadata.go");
const ID_COLUMN_AS_RELEASED = `IDColumn = DefaultColumn + "->'$._id'"`;
const ID_COLUMN_AS_INDEXED = 'IDColumn = DefaultColumn + "->\\"_id\\""';

/**
 * FerretDB 1.24's SQLite backend creates the `_id` index on `_ferretdb_sjson->"_id"` but looks
 * documents up by `_ferretdb_sjson->'$._id'`. Both name the same JSON value, yet SQLite uses an
 * expression index only for the identical expression, so every `{_id}` read, update and delete
 * scanned the whole table (`EXPLAIN QUERY PLAN`: SCAN; a miss in 20,000 small documents took
 * 50 ms). Writing the lookup expression as the index writes it makes them index searches, with
 * the same results. See sandbox/servers/COMPATIBILITY.md.
 */
export async function useIdIndexForLookups(source: string): Promise<void> {
  const file = join(source, SQLITE_METADATA);
  const text = await readFile(file, "utf8");
  if (!text.includes(ID_COLUMN_AS_RELEASED)) {
    throw new Error(`cannot apply the _id lookup fix: ${file} no longer holds ${ID_COLUMN_AS_RELEASED}`);
  }
  await writeFile(file, text.replace(ID_COLUMN_AS_RELEASED, ID_COLUMN_AS_INDEXED));
}
