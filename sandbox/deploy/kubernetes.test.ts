import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { actorNames, loadActor } from "../../actors/index.ts";
import { streamName } from "../../protocol/subjects.ts";
import { durableName, parseEventSubject } from "../../runtime/events/consumer-config.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";
import { runMesh } from "../cli/program.ts";
import { findNatsServerBinary } from "../servers/nats-server.ts";
import { kubeconform } from "./kubeconform.ts";
import { terminationGraceSeconds } from "./actor-manifests.ts";
import { actorNodeFlags } from "../build/production-runtime.ts";

const run = promisify(execFile);
const folder = join(CHECKOUT_ROOT, "deploy", "kubernetes");
const work = await mkdtemp(join(tmpdir(), "meshwork-k8s-"));
after(() => rm(work, { recursive: true, force: true }));

type K8s = { kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(argv, { root: CHECKOUT_ROOT, env: {}, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const manifestFiles = (await readdir(folder)).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml").map((file) => join(folder, file));
const objects: K8s[] = (await Promise.all(manifestFiles.map(async (file) => parseAllDocuments(await readFile(file, "utf8")).map((d) => d.toJS() as K8s)))).flat().filter(Boolean);
const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const definitions = await Promise.all(actorNames.map(async (name) => (await loadActor(name))!));

// Credentials as an operator would have them, and the Secrets made from them.
const credsDir = join(work, "creds");
assert.equal((await mesh("creds", "--dir", credsDir, "issue")).code, 0);
const secretsRun = await mesh("k8s-secrets", "--dir", credsDir);
const secretsFile = join(work, "secrets.yaml");
await writeFile(secretsFile, secretsRun.out);
const secrets = parseAllDocuments(secretsRun.out).map((d) => d.toJS() as K8s);

test("every manifest and the generated Secrets are valid against the Kubernetes 1.33 and KEDA schemas (kubeconform, strict)", async () => {
  assert.equal(secretsRun.code, 0, secretsRun.err);
  const result = await kubeconform([...manifestFiles, join(folder, "kustomization.yaml"), secretsFile]);
  assert.deepEqual(result.invalid, []);
  assert.deepEqual(result.skipped, []);
  assert.equal(result.valid, objects.length + secrets.length);
});

test("kubeconform with these schemas refuses a misspelled field and a wrong type", async () => {
  const actors = await readFile(join(folder, "actors.yaml"), "utf8");
  const bad = join(work, "bad.yaml");
  await writeFile(bad, actors.replace("revisionHistoryLimit: 5", "revisionHistoryLimits: 5").replace("minReplicaCount: 2", "minReplicaCount: two"));
  const result = await kubeconform([bad]);
  assert.equal(result.invalid.length, 2, result.invalid.join("\n"));
  assert.match(result.invalid.join("\n"), /additional properties 'revisionHistoryLimits' not allowed/);
  assert.match(result.invalid.join("\n"), /minReplicaCount': got string, want integer/);
});

test("every actor is a Deployment with readiness on /readyz, a grace period past its drain, resource requests, its own creds, a PDB", () => {
  for (const definition of definitions) {
    const deployment = named("Deployment", definition.name);
    assert.ok(deployment, `Deployment ${definition.name}`);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.deepEqual(container.args, [...actorNodeFlags(definition.name), "dist/actors/main.js", definition.name]);
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.equal(container.readinessProbe.httpGet.port, "metrics");
    assert.equal(container.ports[0].containerPort, Number(container.env.find((e: { name: string }) => e.name === "METRICS_PORT").value));
    assert.equal(pod.terminationGracePeriodSeconds, terminationGraceSeconds(definition));
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > (definition.limits?.drainTimeoutMs ?? 30_000));
    assert.match(container.resources.requests.memory, /^\d+Mi$/);
    assert.match(container.resources.requests.cpu, /^\d+m$/);
    assert.equal(pod.volumes[0].secret.secretName, `${definition.name}-nats-creds`);
    assert.equal(container.env.find((e: { name: string }) => e.name === "MESHWORK_STREAM_REPLICAS").value, String(named("StatefulSet", "nats")!.spec.replicas));
    assert.equal(named("PodDisruptionBudget", definition.name)?.spec.minAvailable, 1);
  }
});

test("the gateway, the HTTP edge, gets its port on all interfaces and a Service in front of it", () => {
  const deployment = named("Deployment", "gateway");
  assert.ok(deployment, "gateway Deployment");
  const container = deployment.spec.template.spec.containers[0];
  assert.deepEqual(container.ports.map((p: { name: string; containerPort: number }) => `${p.name}:${p.containerPort}`), ["metrics:9464", "http:8080"]);
  assert.equal(container.env.find((e: { name: string }) => e.name === "GATEWAY_HOST").value, "0.0.0.0");
  assert.deepEqual(named("Service", "gateway")?.spec.ports, [{ name: "http", port: 80, targetPort: "http" }]);
});

test("KEDA scales request actors on their request rate and event consumers on each durable's lag", () => {
  for (const definition of definitions) {
    const scaled = named("ScaledObject", definition.name);
    assert.ok(scaled, `ScaledObject ${definition.name}`);
    const triggers = scaled.spec.triggers as { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
    assert.match(triggers.find((t) => t.type === "prometheus")?.metadata.query ?? "", new RegExp(`mesh_requests_total\\{actor="${definition.name}"\\}`));
    const lag = triggers.filter((t) => t.type === "nats-jetstream").map((t) => `${t.metadata.stream}/${t.metadata.consumer}`);
    const durables = (definition.consumers ?? []).map((c) => {
      const { producerActor, eventName } = parseEventSubject(c.event.subject);
      return `${streamName(producerActor)}/${durableName(definition.name, eventName)}`;
    });
    assert.deepEqual(lag, durables);
    for (const trigger of triggers.filter((t) => t.type === "nats-jetstream")) assert.ok(named("TriggerAuthentication", trigger.authenticationRef!.name));
  }
  assert.deepEqual(named("ScaledObject", "usage")!.spec.triggers.filter((t: { type: string }) => t.type === "nats-jetstream").map((t: { metadata: { consumer: string } }) => t.metadata.consumer), ["usage--usage"]);
});

test("every Secret a manifest reads is made by mesh k8s-secrets, except the llm provider's, which the README names", async () => {
  const referenced = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (typeof record.secretName === "string") referenced.add(record.secretName);
    for (const key of ["secretKeyRef", "secretRef"]) if (record[key]) referenced.add((record[key] as { name: string }).name);
    if (Array.isArray(record.secretTargetRef)) for (const ref of record.secretTargetRef as { name: string }[]) referenced.add(ref.name);
    Object.values(record).forEach(walk);
  };
  walk(objects);
  const made = new Set(secrets.map((s) => s.metadata.name));
  const external = [...referenced].filter((name) => !made.has(name));
  assert.deepEqual(external, ["llm-provider"]);
  assert.match(await readFile(join(CHECKOUT_ROOT, "README.md"), "utf8"), /secret generic llm-provider/);
  // KEDA's account is the mesh account of the creds' server config.
  const accountId = named("Secret", "keda-nats") ?? secrets.find((s) => s.metadata.name === "keda-nats")!;
  assert.ok(secrets.find((s) => s.metadata.name === "nats-auth")!.stringData!["nats-auth.conf"]!.includes(`${accountId.stringData!.accountID}:`));
});

test("the NATS cluster's configuration, with the issued auth config, passes nats-server's own config test", async () => {
  const dir = join(work, "nats");
  await mkdir(join(dir, "auth"), { recursive: true });
  await writeFile(join(dir, "nats.conf"), named("ConfigMap", "nats-config")!.data!["nats.conf"]!);
  await writeFile(join(dir, "auth", "nats-auth.conf"), secrets.find((s) => s.metadata.name === "nats-auth")!.stringData!["nats-auth.conf"]!);
  const { stdout, stderr } = await run(await findNatsServerBinary(), ["-c", join(dir, "nats.conf"), "-t"], { env: { ...process.env, POD_NAME: "nats-0" } });
  assert.match(`${stdout}${stderr}`, /configuration file .* is valid/);
  // The test reads the include: without the Secret's file the same configuration is refused.
  await rm(join(dir, "auth", "nats-auth.conf"));
  await assert.rejects(run(await findNatsServerBinary(), ["-c", join(dir, "nats.conf"), "-t"], { env: { ...process.env, POD_NAME: "nats-0" } }), /nats-auth\.conf/);
  assert.equal(named("StatefulSet", "nats")!.spec.replicas, 3);
  assert.match(named("ConfigMap", "nats-config")!.data!["nats.conf"]!, /jetstream \{/);
  assert.deepEqual(named("StatefulSet", "mongodb")!.spec.template.spec.containers[0].args.slice(0, 2), ["--replSet", "rs0"]);
});

test("mesh k8s-secrets without issued credentials says what to run and prints no Secret", async () => {
  const { code, out, err } = await mesh("k8s-secrets", "--dir", join(work, "empty"));
  assert.equal(code, 1);
  assert.equal(out, "");
  assert.match(err, /^mesh k8s-secrets: .*nats-auth\.conf is missing: run `npx mesh creds issue` first/);
});
