import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "@nats-io/transport-node";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import type { IssuedCredentials } from "../creds/issue-credentials.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { goInstall, NATS_SERVER_VERSION, whichOnPath } from "./cache.ts";
import { freePort, spawnSupervised, waitUntil, type SupervisedProcess } from "./supervised-process.ts";
import type { RunningServer } from "./types.ts";

const run = promisify(execFile);

async function versionOf(binary: string): Promise<[number, number]> {
  const { stdout } = await run(binary, ["--version"]);
  const match = /v?(\d+)\.(\d+)\./.exec(stdout);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/** nats-server from the PATH when it is 2.10 or newer, else the pinned build in the cache. */
export async function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.MESHWORK_NATS_SERVER_BIN) return env.MESHWORK_NATS_SERVER_BIN;
  const onPath = await whichOnPath("nats-server", env);
  if (onPath) {
    const [major, minor] = await versionOf(onPath);
    if (major > 2 || (major === 2 && minor >= 10)) return onPath;
  }
  return goInstall("github.com/nats-io/nats-server/v2", NATS_SERVER_VERSION, "nats-server");
}

/** Whether a NATS server with JetStream answers at `url` for the user of `credsFile`. */
export async function natsAnswers(url: string, credsFile: string): Promise<boolean> {
  const nc = await connect({ servers: url, ...natsAuthFromCreds(credsFile), reconnect: false, timeout: 1000 });
  try {
    await nc.flush();
    await (await jetstreamManager(nc)).getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}

export interface NatsStartOptions {
  /** The mesh's credentials (`mesh creds`): the server takes its auth configuration from them. */
  readonly credentials: IssuedCredentials;
  readonly readyTimeoutMs?: number;
}

/**
 * Starts a private nats-server with JetStream and monitoring on free ports, with decentralized
 * JWT authentication from the given credentials: anonymous connections are refused.
 */
export async function startNatsServer(workDir: string, { credentials, readyTimeoutMs = 20_000 }: NatsStartOptions): Promise<RunningServer> {
  const binary = await findNatsServerBinary();
  const dir = join(workDir, `nats-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(dir, { recursive: true });
  const [port, monitorPort] = [await freePort(), await freePort()];
  const logFile = join(dir, "nats-server.log");
  const proc: SupervisedProcess = spawnSupervised("nats-server", binary, [
    "-c", credentials.serverAuthFile, "-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort),
    "-js", "-sd", join(dir, "jetstream"), "-l", logFile,
  ], `${logFile}.out`);
  const url = `nats://127.0.0.1:${port}`;
  const ready = await waitUntil(async () => !proc.hasExited() && (await natsAnswers(url, credentials.credsFiles[OPERATOR_USER]!)), readyTimeoutMs);
  if (!ready) {
    await proc.stop(1000);
    throw new Error(`nats-server did not become ready within ${readyTimeoutMs} ms; see its log at ${logFile}`);
  }
  return { kind: "nats", url, credentials, reload: () => proc.signal?.("SIGHUP") ?? false, monitorUrl: `http://127.0.0.1:${monitorPort}`, logFile, dataDir: dir, stop: () => proc.stop() };
}
