import { join } from "node:path";
import { readSandboxEnv, SANDBOX_ENV_FILE, writerAlive } from "../supervisor/sandbox-env.ts";
import { CliError, type CliIo } from "./cli-io.ts";

const TRACE_ID = /^[0-9a-f]{32}$/;

/** The running sandbox's web view: MESHWORK_WEB_URL, else its sandbox.env. */
async function webUrl(io: CliIo): Promise<string> {
  if (io.env.MESHWORK_WEB_URL) return io.env.MESHWORK_WEB_URL;
  const envFile = join(io.root, ".meshwork", SANDBOX_ENV_FILE);
  const values = await readSandboxEnv(envFile);
  if (values?.MESHWORK_WEB_URL && writerAlive(values)) return values.MESHWORK_WEB_URL;
  throw new CliError(`no sandbox is running (${envFile} names none); traces are kept by the sandbox's web view: start one with make sandbox`);
}

/** `mesh trace <trace-id>`: one trace from the sandbox, as a tree of spans (or JSON). */
export async function traceCommand(io: CliIo, traceId: string, options: { json?: boolean }): Promise<number> {
  const id = traceId.trim().toLowerCase();
  if (!TRACE_ID.test(id)) throw new CliError(`a trace id is 32 hex digits (the second field of a traceparent, or traceId in a log line); got "${traceId}"`, 2);
  const base = await webUrl(io);
  const response = await fetch(`${base}/api/traces/${id}${options.json ? "" : "?format=text"}`).catch(() => {
    throw new CliError(`the sandbox's web view at ${base} does not answer`);
  });
  if (response.status === 404) throw new CliError(`no trace ${id} in the sandbox (it keeps the most recent 2,000 traces; spans arrive within a second)`);
  if (!response.ok) throw new CliError(`the web view answered ${response.status}`);
  io.out(options.json ? `${JSON.stringify(await response.json(), null, 2)}\n` : await response.text());
  return 0;
}
