import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { issueMeshCredentials } from "../creds/mesh-credentials.ts";
import { WORK_DIR } from "./index.ts";
import { PortTakenError, startNatsNode } from "./nats-server.ts";
import { freePort } from "./supervised-process.ts";

const dir = join(WORK_DIR, "test", `ports-${randomBytes(4).toString("hex")}`);
const credentials = await issueMeshCredentials(dir);

test("a port another process took is reported at once as PortTakenError, not after the ready timeout", async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
  try {
    const taken = (squatter.address() as { port: number }).port;
    const started = Date.now();
    const attempt = startNatsNode({
      dir: join(dir, "server"), port: await freePort(), monitorPort: taken, credentials, readyTimeoutMs: 20_000,
      args: ["-c", credentials.serverAuthFile, "-js", "-sd", join(dir, "server", "jetstream")],
    });
    await assert.rejects(attempt, PortTakenError);
    assert.ok(Date.now() - started < 10_000, `reported after ${Date.now() - started} ms`);
  } finally {
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  }
});
