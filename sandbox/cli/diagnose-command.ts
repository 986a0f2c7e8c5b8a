import { join } from "node:path";
import { actorNames } from "../../actors/index.ts";
import { MeshClient } from "../../runtime/index.ts";
import { askForDiagnosis, OPERATOR_TENANT } from "../diagnose/ask-llm.ts";
import { gatherEvidence } from "../diagnose/evidence.ts";
import { findings } from "../diagnose/findings.ts";
import { readSandboxEnv, SANDBOX_ENV_FILE, writerAlive } from "../supervisor/sandbox-env.ts";
import type { CliIo } from "./cli-io.ts";
import { withMesh } from "./connection.ts";

export interface DiagnoseOptions {
  readonly server?: string;
  /** Where the replica logs are (default the sandbox's .meshwork/logs). */
  readonly logs?: string;
  /** Print the evidence only, without asking the llm actor. */
  readonly llm?: boolean;
  readonly json?: boolean;
}

async function sandboxWebUrl(io: CliIo): Promise<string | undefined> {
  if (io.env.MESHWORK_WEB_URL) return io.env.MESHWORK_WEB_URL;
  const values = await readSandboxEnv(join(io.root, ".meshwork", SANDBOX_ENV_FILE));
  return values?.MESHWORK_WEB_URL && writerAlive(values) ? values.MESHWORK_WEB_URL : undefined;
}

/**
 * `mesh diagnose`: gathers the mesh's state, prints it as numbered findings, and asks the `llm`
 * actor (tenant mesh-operator) for a short diagnosis citing them; without an llm instance, or with
 * --no-llm, the findings stand alone. Exit 0 when the evidence was gathered.
 */
export async function diagnoseCommand(io: CliIo, options: DiagnoseOptions): Promise<number> {
  const logDir = options.logs ?? join(io.root, ".meshwork", "logs");
  const webUrl = await sandboxWebUrl(io);
  return withMesh(io, options.server, async (nc) => {
    const evidence = await gatherEvidence(nc, { actors: actorNames, logDir, webUrl });
    const lines = findings(evidence);
    const llmRuns = evidence.actors.some((a) => a.actor === "llm" && a.instances > 0);
    const diagnosis = options.llm === false
      ? { ok: false as const, reason: "not asked (--no-llm)" }
      : !llmRuns
        ? { ok: false as const, reason: "no llm instance answers" }
        : await (async () => {
          const mesh = new MeshClient(nc, { service: "mesh-diagnose", maxAttempts: 2 });
          try {
            return await askForDiagnosis(mesh, lines);
          } finally {
            mesh.close();
          }
        })();
    if (options.json) {
      io.out(`${JSON.stringify({ findings: lines, diagnosis, evidence }, null, 2)}\n`);
      return 0;
    }
    io.out(`Evidence (${evidence.at}):\n${lines.map((line) => `  ${line}`).join("\n")}\n\n`);
    if (diagnosis.ok) io.out(`Diagnosis (llm actor, tenant ${OPERATOR_TENANT}, $${diagnosis.costUsd.toFixed(6)}):\n  ${diagnosis.text.replace(/\n/g, "\n  ")}\n`);
    else io.out(`No diagnosis from the llm actor (${diagnosis.reason}): the evidence above stands alone.\n`);
    return 0;
  });
}
