/**
 * kubeconform and the schemas it validates against, with no download but Go modules: the binary
 * is built with `go install` into the per-user cache; the Kubernetes schemas come from the
 * OpenAPI v3 documents in the `k8s.io/kubernetes` module, KEDA's from the CRDs in its module.
 * Each resource kind becomes one standalone JSON Schema file named as kubeconform's
 * `{{ .ResourceKind }}{{ .KindSuffix }}.json` template expects, strict (no unknown fields).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { cacheDir, goInstall, whichOnPath } from "../servers/cache.ts";

const run = promisify(execFile);

export const KUBECONFORM_VERSION = "v0.7.0";
export const KUBERNETES_VERSION = "v1.33.5";
export const KEDA_VERSION = "v2.17.2";
/** The API groups the manifests use (OpenAPI v3 files of k8s.io/kubernetes/api/openapi-spec/v3). */
const KUBERNETES_GROUPS = ["api__v1", "apis__apps__v1", "apis__policy__v1", "apis__batch__v1"];
const KEDA_CRDS = ["keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"];

type Schema = Record<string, unknown>;

export function kubeconformBinary(): Promise<string> {
  return goInstall("github.com/yannh/kubeconform/cmd/kubeconform", KUBECONFORM_VERSION, "kubeconform");
}

async function moduleDir(module: string): Promise<string> {
  const go = await whichOnPath("go");
  if (!go) throw new Error(`cannot read ${module}: Go is not installed`);
  const { stdout } = await run(go, ["mod", "download", "-json", module], { maxBuffer: 4 * 1024 * 1024 });
  return (JSON.parse(stdout) as { Dir: string }).Dir;
}

/** OpenAPI's spellings JSON Schema validators do not know, rewritten; objects made strict. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== "object") return node;
  const schema = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === "enum" || key === "default" || key === "example" ? value : toJsonSchema(value)])) as Schema;
  if (schema.format === "int-or-string" || schema["x-kubernetes-int-or-string"] === true) {
    const { type: _type, format: _format, ...rest } = schema;
    return { ...rest, oneOf: [{ type: "string" }, { type: "integer" }] };
  }
  if (schema.properties && schema.additionalProperties === undefined && schema["x-kubernetes-preserve-unknown-fields"] !== true) schema.additionalProperties = false;
  return schema;
}

const suffix = (group: string, version: string) => (group === "" ? `-${version}` : `-${group.split(".")[0]}-${version}`);

async function kubernetesSchemas(target: string): Promise<void> {
  const dir = join(await moduleDir(`k8s.io/kubernetes@${KUBERNETES_VERSION}`), "api", "openapi-spec", "v3");
  for (const group of KUBERNETES_GROUPS) {
    const document = JSON.parse(await readFile(join(dir, `${group}_openapi.json`), "utf8")) as { components: { schemas: Record<string, Schema> } };
    const components = toJsonSchema(document.components) as { schemas: Record<string, Schema> };
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      const kinds = schema["x-kubernetes-group-version-kind"] as { group: string; version: string; kind: string }[] | undefined;
      if (!kinds || kinds.length !== 1 || name.endsWith("List")) continue;
      const { group: apiGroup, version, kind } = kinds[0]!;
      await writeFile(join(target, `${kind.toLowerCase()}${suffix(apiGroup, version)}.json`), JSON.stringify({ $ref: `#/components/schemas/${name}`, components }));
    }
  }
}

async function kedaSchemas(target: string): Promise<void> {
  const dir = join(await moduleDir(`github.com/kedacore/keda/v2@${KEDA_VERSION}`), "config", "crd", "bases");
  for (const file of KEDA_CRDS) {
    const crd = parse(await readFile(join(dir, file), "utf8")) as { spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
    for (const version of crd.spec.versions) {
      await writeFile(join(target, `${crd.spec.names.kind.toLowerCase()}${suffix(crd.spec.group, version.name)}.json`), JSON.stringify(toJsonSchema(version.schema.openAPIV3Schema)));
    }
  }
}

/** The schema folder (built once per version pair into the cache); pass `{{ .ResourceKind }}{{ .KindSuffix }}.json` below it to kubeconform. */
export async function kubeconformSchemas(): Promise<string> {
  const target = join(cacheDir(), "kubeconform-schemas", `kubernetes-${KUBERNETES_VERSION}-keda-${KEDA_VERSION}`);
  if (existsSync(target)) return target;
  const building = `${target}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  await kubernetesSchemas(building);
  await kedaSchemas(building);
  await rename(building, target).catch(async (error: unknown) => {
    // Another process finished first: its folder is as good as ours.
    await rm(building, { recursive: true, force: true });
    if (!existsSync(target)) throw error;
  });
  return target;
}

export interface KubeconformResult {
  readonly valid: number;
  readonly invalid: readonly string[];
  readonly skipped: readonly string[];
}

/** Validates YAML files strictly (no schema means an error, not a skip); Kustomization is not a cluster resource. */
export async function kubeconform(files: readonly string[]): Promise<KubeconformResult> {
  const [binary, schemas] = await Promise.all([kubeconformBinary(), kubeconformSchemas()]);
  const args = ["-strict", "-summary", "-output", "json", "-skip", "Kustomization", "-schema-location", join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json"), ...files];
  const { stdout } = await run(binary, args, { maxBuffer: 16 * 1024 * 1024 }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  const report = JSON.parse(stdout) as { resources?: { filename: string; kind: string; name: string; status: string; msg: string }[]; summary: { valid: number } };
  const resources = report.resources ?? [];
  const line = (r: { filename: string; kind: string; name: string; msg: string }) => `${r.filename}: ${r.kind} ${r.name}: ${r.msg}`;
  return {
    valid: report.summary.valid,
    invalid: resources.filter((r) => r.status === "statusInvalid" || r.status === "statusError").map(line),
    skipped: resources.filter((r) => r.status === "statusSkipped").map((r) => `${r.filename}: ${r.kind}`),
  };
}
