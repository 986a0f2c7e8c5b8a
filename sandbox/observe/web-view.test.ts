import { test, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { actorNames } from "../../actors/index.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";
import { runMesh } from "../cli/program.ts";
import { startDemo } from "../demo/demo.ts";
import { DEMO_TENANTS } from "../demo/demo-tenants.ts";
import { WORK_DIR } from "../servers/index.ts";
import { startSandbox } from "../supervisor/start-sandbox.ts";
import { useTestServers } from "../testing/test-servers.ts";
import { findChromium } from "./chromium.ts";
import type { ReceivedSpan } from "./otlp-receiver.ts";

const chromium = await findChromium();
const skip = chromium ? false : "no Chromium found (CHROME_PATH, or chromium on the PATH): install it with `make browser` (apt-get install chromium)";

const servers = await useTestServers();
const workDir = join(WORK_DIR, "test", `web-${randomBytes(4).toString("hex")}`);
// The whole mesh, one replica each, with the demo's traffic: what `make sandbox` shows.
const sandbox = await startSandbox({
  workDir,
  replicas: 1,
  env: { NATS_URL: servers.natsUrl, MONGO_URL: servers.mongoUrl },
  databasePrefix: servers.databasePrefix,
  credentialsDir: servers.credentials.dir,
  natsContextDir: join(workDir, "config", "nats", "context"),
});
const demo = await startDemo(sandbox, { intensity: 2 });
sandbox.web.attach(() => demo.state());
let browser: Browser | undefined;
servers.onCleanup(async () => {
  await browser?.close();
  await demo.stop();
  await sandbox.stop();
});
after(() => rm(workDir, { recursive: true, force: true }));

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(argv, { root: CHECKOUT_ROOT, env: { MESHWORK_WEB_URL: sandbox.web.url }, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

test("the page loads in headless Chromium, shows every actor and demo tenant, and updates live", { skip }, async () => {
  browser = await puppeteer.launch({ executablePath: chromium!, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(sandbox.web.url, { waitUntil: "domcontentloaded" });
  assert.equal(await page.title(), "Meshwork sandbox");
  for (const actor of actorNames) await page.waitForSelector(`#actors tr[data-actor="${actor}"]`);
  for (const tenant of DEMO_TENANTS) await page.waitForSelector(`#tenants tr[data-tenant="${tenant.id}"]`);
  // Per-endpoint rows, with the subjects of the contracts.
  await page.waitForSelector('#actors tr[data-endpoint="tenants.get"]');
  await page.waitForSelector('#actors tr[data-endpoint="llm.complete"]');
  // The tests' tsconfig has no DOM types: what runs in the page is written as expressions.
  const first = Number(await page.evaluate('document.getElementById("status").dataset.sequence'));
  await page.waitForFunction(`Number(document.getElementById("status").dataset.sequence) > ${first + 1}`);
  // Live figures arrive: requests per second on the tenants actor, and a plotted line.
  await page.waitForFunction(`Number(document.querySelector('#actors tr[data-actor="tenants"] td:nth-child(4)').textContent) > 0`);
  await page.waitForSelector("#plot-rps polyline");
  // The demo's tight-budget tenant gets refusals the page counts (OVER_BUDGET or RATE_LIMITED).
  await page.waitForFunction(`[...document.querySelectorAll("#tenants tbody tr")].some((row) => Number(row.children[3].textContent) + Number(row.children[4].textContent) > 0)`);
  assert.deepEqual(problems, []);
});

test("mesh trace shows one sandbox trace: the llm request, its usage event and the usage actor's consumption", async () => {
  // A completion that reached the provider (not refused, not from the cache), whose usage event was consumed.
  const complete = (traceId: string) => {
    const names = sandbox.web.spans.trace(traceId).map((s) => s.name);
    return ["llm.complete handle", "events.llm.usage publish", "events.llm.usage process"].every((name) => names.includes(name)) && names.some((name) => name.startsWith("provider "));
  };
  let consumed: ReceivedSpan | undefined;
  while (!consumed) {
    const [spans] = await once(sandbox.web.spans, "spans") as [ReceivedSpan[]];
    consumed = [...new Set(spans.map((s) => s.traceId))].filter(complete).map((id) => sandbox.web.spans.trace(id)[0]!)[0];
  }
  const { code, out } = await mesh("trace", consumed.traceId);
  assert.equal(code, 0);
  assert.match(out, new RegExp(`^trace ${consumed.traceId}: \\d+ spans`));
  const lines = out.split("\n");
  const indent = (name: string) => {
    const line = lines.find((l) => l.trimStart().startsWith(`${name} `));
    assert.ok(line, `${name} in\n${out}`);
    return line.length - line.trimStart().length;
  };
  assert.ok(indent("llm.complete handle") < indent("events.llm.usage publish"));
  assert.ok(indent("events.llm.usage publish") < indent("events.llm.usage process"));
  assert.match(out, /provider gpt-4o/);
  assert.ok(indent("llm.complete handle") < indent("provider"));
  assert.match(out, /events\.llm\.usage process .*consumer, usage/);
});

test("mesh trace refuses a malformed id and says when a trace is unknown or no sandbox runs", async () => {
  const malformed = await mesh("trace", "not-a-trace");
  assert.equal(malformed.code, 2);
  assert.match(malformed.err, /a trace id is 32 hex digits/);
  const unknown = await mesh("trace", "0".repeat(32));
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /no trace 0{32} in the sandbox/);
  let err = "";
  const none = await runMesh(["trace", "1".repeat(32)], { root: workDir, env: {}, out: () => {}, err: (t) => void (err += t) });
  assert.equal(none, 1);
  assert.match(err, /no sandbox is running/);
  assert.equal((await fetch(`${sandbox.web.url}/api/traces/xyz`)).status, 400);
});
