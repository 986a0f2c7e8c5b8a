import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
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
  const nc = await connect({ servers: url.split(","), ...natsAuthFromCreds(credsFile), reconnect: false, timeout: 1000 });
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

/** A nats-server this process started: it can be killed and started again on the same port and data. */
export interface RestartableNats extends RunningServer {
  readonly url: string;
  /** SIGKILL, no drain; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again with the same ports, configuration and JetStream data; resolves when it answers. */
  restart(): Promise<void>;
  isRunning(): boolean;
}

/**
 * Starts a private nats-server with JetStream and monitoring on free ports, with decentralized
 * JWT authentication from the given credentials: anonymous connections are refused.
 */
export async function startNatsServer(workDir: string, { credentials, readyTimeoutMs = 20_000 }: NatsStartOptions): Promise<RestartableNats> {
  for (let attempt = 1; ; attempt++) {
    const dir = join(workDir, `nats-${process.pid}-${Date.now().toString(36)}`);
    const [port, monitorPort] = [await freePort(), await freePort()];
    try {
      return await startNatsNode({ dir, port, monitorPort, credentials, readyTimeoutMs, args: ["-c", credentials.serverAuthFile, "-js", "-sd", join(dir, "jetstream")] });
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/**
 * A port found free can be taken by another process before nats-server binds it (a test's
 * `make test` run once lost 20 s and a test file that way). The server then exits at once;
 * `startNatsServer` tries again on new ports, this many times in all.
 */
const PORT_ATTEMPTS = 3;

/** nats-server exited because one of its ports was in use. */
export class PortTakenError extends Error {}

export interface NatsNodeSpec {
  readonly dir: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly credentials: IssuedCredentials;
  readonly readyTimeoutMs: number;
  /** Configuration arguments besides address, ports and log. */
  readonly args: readonly string[];
  /** Readiness: answers, and (for a cluster node) whatever else must hold. Default: JetStream answers the operator. */
  readonly ready?: (url: string) => Promise<boolean>;
}

/** One nats-server process under the watchdog, restartable with the same ports and data. */
export async function startNatsNode(spec: NatsNodeSpec): Promise<RestartableNats> {
  const binary = await findNatsServerBinary();
  await mkdir(spec.dir, { recursive: true });
  const logFile = join(spec.dir, "nats-server.log");
  const url = `nats://127.0.0.1:${spec.port}`;
  const operatorCreds = spec.credentials.credsFiles[OPERATOR_USER]!;
  const ready = spec.ready ?? ((at: string) => natsAnswers(at, operatorCreds));
  let proc: SupervisedProcess;
  async function launch(): Promise<void> {
    proc = spawnSupervised("nats-server", binary, [
      ...spec.args, "-a", "127.0.0.1", "-p", String(spec.port), "-m", String(spec.monitorPort), "-l", logFile,
    ], `${logFile}.out`);
    const answered = await waitUntil(async () => proc.hasExited() || (await ready(url)), spec.readyTimeoutMs);
    if (!answered || proc.hasExited()) {
      await proc.stop(1000);
      const log = await readFile(logFile, "utf8").catch(() => "");
      if (/address already in use/.test(log)) throw new PortTakenError(`nats-server could not bind its ports; see its log at ${logFile}`);
      throw new Error(`nats-server ${answered ? "exited before it was ready" : `did not become ready within ${spec.readyTimeoutMs} ms`}; see its log at ${logFile}`);
    }
  }
  await launch();
  return {
    kind: "nats", url, credentials: spec.credentials, monitorUrl: `http://127.0.0.1:${spec.monitorPort}`, logFile, dataDir: spec.dir,
    reload: () => proc.signal?.("SIGHUP") ?? false,
    stop: () => proc.stop(),
    isRunning: () => !proc.hasExited(),
    async kill() {
      if (proc.hasExited()) return;
      proc.signal?.("SIGKILL");
      await proc.exited;
    },
    async restart() {
      if (!proc.hasExited()) await proc.stop();
      await launch();
    },
  };
}
