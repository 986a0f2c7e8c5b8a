import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { readSandboxEnv, SANDBOX_ENV_FILE, writerAlive } from "../supervisor/sandbox-env.ts";
import { CliError, type CliIo } from "./cli-io.ts";

export interface MeshTarget {
  readonly url: string;
  /** How the URL was found, for error messages. */
  readonly source: string;
  /** True when it came from a sandbox.env whose sandbox is no longer running. */
  readonly stale: boolean;
}

/** `--server`, else NATS_URL, else the running sandbox's .meshwork/sandbox.env. */
export async function findMesh(io: CliIo, server?: string): Promise<MeshTarget> {
  if (server) return { url: server, source: "--server", stale: false };
  if (io.env.NATS_URL) return { url: io.env.NATS_URL, source: "NATS_URL", stale: false };
  const envFile = join(io.root, ".meshwork", SANDBOX_ENV_FILE);
  const values = await readSandboxEnv(envFile);
  if (values?.NATS_URL) return { url: values.NATS_URL, source: envFile, stale: !writerAlive(values) };
  throw new CliError(`no mesh reachable: NATS_URL is not set and ${envFile} does not exist (start one with make sandbox)`);
}

/** Connects once, without reconnecting: an operator's command should fail fast and say why. */
export async function connectMesh(target: MeshTarget): Promise<NatsConnection> {
  try {
    return await connect({ servers: target.url, reconnect: false, timeout: 2000, name: "mesh-cli" });
  } catch {
    const hint = target.stale ? "; that file is left over from a sandbox that is no longer running" : "";
    throw new CliError(`no mesh reachable at ${target.url} (from ${target.source}${hint}) (start one with make sandbox)`);
  }
}

/** Runs `work` with a connection to the mesh and closes it afterwards. */
export async function withMesh<T>(io: CliIo, server: string | undefined, work: (nc: NatsConnection, target: MeshTarget) => Promise<T>): Promise<T> {
  const target = await findMesh(io, server);
  const nc = await connectMesh(target);
  try {
    return await work(nc, target);
  } finally {
    await nc.close();
  }
}
