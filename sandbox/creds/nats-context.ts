/**
 * A context for the stock `nats` CLI (`nats --context <name> ...`): the server URL, a creds file
 * and the inbox prefix that user's permissions allow. The CLI reads contexts from
 * `$XDG_CONFIG_HOME/nats/context/<name>.json` (default `~/.config/nats/context/`).
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { credsUserName } from "../../runtime/auth/nats-credentials.ts";
import { inboxPrefixFor } from "../../runtime/auth/permissions.ts";

export interface NatsContext {
  readonly url: string;
  readonly credsFile: string;
}

export function natsContextDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "nats", "context");
}

/** Writes (or replaces) the context; returns its file. */
export async function writeNatsContext(name: string, context: NatsContext, dir = natsContextDir()): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const user = credsUserName(readFileSync(context.credsFile, "utf8"));
  await writeFile(file, `${JSON.stringify({
    description: "Meshwork sandbox (written by make sandbox)",
    url: context.url,
    creds: context.credsFile,
    inbox_prefix: inboxPrefixFor(user),
  }, null, 2)}\n`);
  return file;
}

export async function removeNatsContext(name: string, dir = natsContextDir()): Promise<void> {
  await rm(join(dir, `${name}.json`), { force: true });
}
