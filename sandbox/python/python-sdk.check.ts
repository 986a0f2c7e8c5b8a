/**
 * `make test-python`: the Python `openai` package through the gateway, against real servers.
 * Creates a venv under .meshwork/python (once) and installs `openai` with pip, so it needs the
 * package index; that is why it is not part of `make test`. Run with `node --test` through tsx.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startGatewayMesh } from "../../actors/gateway/test-support.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";
import { useTestServers } from "../testing/test-servers.ts";

const run = promisify(execFile);
const VENV = join(CHECKOUT_ROOT, ".meshwork", "python");
const PYTHON = join(VENV, "bin", "python");
const SCRIPT = fileURLToPath(new URL("./openai_through_gateway.py", import.meta.url));

if (!existsSync(PYTHON)) await run("python3", ["-m", "venv", VENV]);
await run(PYTHON, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "openai>=1.40,<3"], { timeout: 300_000 });

const servers = await useTestServers();
const mesh = await startGatewayMesh(servers);

test("the Python openai package completes and streams through the gateway with a tenant key", async () => {
  const key = await mesh.tenantWithKey("acme");
  const { stdout } = await run(PYTHON, [SCRIPT], { env: { ...process.env, OPENAI_BASE_URL: mesh.baseURL, OPENAI_API_KEY: key }, timeout: 60_000 });
  const got = JSON.parse(stdout.trim()) as { content: string; usage: { completion_tokens: number }; streamed: string; streamUsage: { completion_tokens: number } | null };
  assert.match(got.content, /^reply:/);
  assert.equal(got.streamed, got.content, "the stream carries the same answer");
  assert.deepEqual(got.streamUsage, got.usage, "and ends with its usage");
});
