import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Subject on which a running sandbox accepts `{actor, replicas}` and answers when the scale is done. */
export const SCALE_SUBJECT = "mesh.sandbox.scale";
/** Subject on which a running sandbox answers with its supervisor's view of every actor. */
export const REPLICAS_SUBJECT = "mesh.sandbox.replicas";

export const SANDBOX_ENV_FILE = "sandbox.env";

/**
 * What a client needs to join a running sandbox. Written as `KEY=value` lines so a shell can
 * `set -a; . .meshwork/sandbox.env; set +a` and any tool can read it.
 */
export interface SandboxEnv {
  readonly NATS_URL: string;
  /** The operator's credentials (every subject of the mesh account). */
  readonly NATS_CREDS: string;
  readonly MONGO_URL: string;
  readonly PROVIDER_URL: string;
  readonly OPENAI_BASE_URL: string;
  readonly MESHWORK_DB_PREFIX: string;
  readonly MESHWORK_SANDBOX_PID: string;
  readonly MESHWORK_SCALE_SUBJECT: string;
  /** The web view and OTLP trace receiver (`mesh trace` reads traces there). */
  readonly MESHWORK_WEB_URL: string;
  /** The gateway's URL (with the gateway running), and one demo API key per demo tenant: MESHWORK_API_KEY_ACME, ... */
  readonly MESHWORK_GATEWAY_URL?: string;
  readonly [apiKey: `MESHWORK_API_KEY_${string}`]: string;
}

export function sandboxEnvPath(workDir: string): string {
  return join(workDir, SANDBOX_ENV_FILE);
}

export async function writeSandboxEnv(workDir: string, env: SandboxEnv): Promise<string> {
  const path = sandboxEnvPath(workDir);
  const lines = Object.entries(env).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}=${value}`);
  await writeFile(path, `# written by the running sandbox (pid ${env.MESHWORK_SANDBOX_PID}); removed when it stops\n${lines.join("\n")}\n`);
  return path;
}

/** The file's variables, or undefined when there is no file. Comments and blank lines are skipped. */
export async function readSandboxEnv(path: string): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1]!] = match[2]!.trim();
  }
  return values;
}

export async function removeSandboxEnv(workDir: string): Promise<void> {
  await rm(sandboxEnvPath(workDir), { force: true });
}

/** True when the process that wrote the file still runs (a killed sandbox leaves a stale file). */
export function writerAlive(values: Record<string, string>): boolean {
  const pid = Number(values.MESHWORK_SANDBOX_PID);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
