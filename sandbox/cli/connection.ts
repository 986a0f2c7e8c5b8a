import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { AuthorizationError, type NatsConnection } from "@nats-io/nats-core";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { readSandboxEnv, SANDBOX_ENV_FILE, writerAlive } from "../supervisor/sandbox-env.ts";
import { CliError, type CliIo } from "./cli-io.ts";

export interface MeshTarget {
  readonly url: string;
  /** How the URL was found, for error messages. */
  readonly source: string;
  /** True when it came from a sandbox.env whose sandbox is no longer running. */
  readonly stale: boolean;
  /** The user's creds file: NATS_CREDS, else the sandbox's (sandbox.env). */
  readonly credsFile: string | undefined;
}

/**
 * `--server`, else NATS_URL, else the running sandbox's .meshwork/sandbox.env; credentials from
 * NATS_CREDS, else from that sandbox.env (the sandbox's operator).
 */
export async function findMesh(io: CliIo, server?: string): Promise<MeshTarget> {
  const envFile = join(io.root, ".meshwork", SANDBOX_ENV_FILE);
  const values = await readSandboxEnv(envFile);
  const credsFile = io.env.NATS_CREDS || values?.NATS_CREDS || undefined;
  if (server) return { url: server, source: "--server", stale: false, credsFile };
  if (io.env.NATS_URL) return { url: io.env.NATS_URL, source: "NATS_URL", stale: false, credsFile };
  if (values?.NATS_URL) return { url: values.NATS_URL, source: envFile, stale: !writerAlive(values), credsFile };
  throw new CliError(`no mesh reachable: NATS_URL is not set and ${envFile} does not exist (start one with make sandbox)`);
}

/** Connects once, without reconnecting: an operator's command should fail fast and say why. */
export async function connectMesh(target: MeshTarget): Promise<NatsConnection> {
  let auth = {};
  try {
    auth = target.credsFile ? natsAuthFromCreds(target.credsFile) : {};
  } catch (error) {
    throw new CliError(`cannot read the credentials ${target.credsFile}: ${(error as Error).message}`);
  }
  try {
    return await connect({ servers: target.url.split(","), ...auth, reconnect: false, timeout: 2000, name: "mesh-cli" });
  } catch (error) {
    if (error instanceof AuthorizationError || /authorization|authentication/i.test(String(error))) {
      throw new CliError(`the mesh at ${target.url} refused ${target.credsFile ? `the credentials ${target.credsFile}` : "a connection without credentials (set NATS_CREDS)"}`);
    }
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
