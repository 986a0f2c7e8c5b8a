/**
 * Asks the mesh's own `llm` actor for a short diagnosis, as the tenant `mesh-operator`: its own
 * policy and budget (created on first use), so diagnosing never spends a customer's budget and is
 * limited like any tenant. The prompt holds the numbered findings only (no payloads).
 */
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { hasCode, isMeshError, MeshClient } from "../../runtime/index.ts";

export const OPERATOR_TENANT = "mesh-operator";
export const DIAGNOSIS_MODEL = "gpt-4o-mini";

const OPERATOR_POLICY: TenantPolicyFields = {
  displayName: "Mesh operator (mesh diagnose)",
  limits: { requestsPerMinute: 30, tokensPerMinute: 60_000 },
  budget: { amountUsd: 1, period: "day" },
  allowedModels: [],
  allowedTools: [],
  maxPromptTokens: 16_000,
  retention: { storePrompts: false, retentionDays: 1 },
};

const INSTRUCTIONS = [
  "You diagnose a Meshwork mesh: stateless actors on NATS (request/reply, JetStream events with durable consumers and dead letters), each with its own MongoDB database behind a circuit breaker.",
  "From the numbered evidence only, say in at most five sentences what is most likely wrong, what it affects, and what to check or do first.",
  "Cite the evidence lines you used by number, like [2]. If the evidence shows no fault, say so.",
].join(" ");

export type Diagnosis = { readonly ok: true; readonly text: string; readonly costUsd: number } | { readonly ok: false; readonly reason: string };

async function ensureOperatorTenant(mesh: MeshClient): Promise<void> {
  try {
    await mesh.request(tenantsContract.requests.get, {}, { tenant: OPERATOR_TENANT, timeoutMs: 3000 });
  } catch (error) {
    if (!hasCode(error, "NOT_FOUND")) throw error;
    await mesh.request(tenantsContract.requests.put, { policy: OPERATOR_POLICY, expectedVersion: 0 }, { tenant: OPERATOR_TENANT, timeoutMs: 3000, idempotencyKey: "mesh-diagnose-operator-tenant" })
      .catch((put: unknown) => {
        if (!hasCode(put, "CONFLICT")) throw put; // another diagnose created it first
      });
  }
}

export async function askForDiagnosis(mesh: MeshClient, numberedFindings: readonly string[]): Promise<Diagnosis> {
  try {
    await ensureOperatorTenant(mesh);
    const answer = await mesh.request(llmContract.requests.complete, {
      service: "mesh-diagnose",
      model: DIAGNOSIS_MODEL,
      temperature: 0,
      maxTokens: 300,
      messages: [{ role: "system", content: INSTRUCTIONS }, { role: "user", content: `Evidence:\n${numberedFindings.join("\n")}` }],
    }, { tenant: OPERATOR_TENANT, timeoutMs: 30_000 });
    return { ok: true, text: answer.content ?? "(the model answered with no text)", costUsd: answer.costUsd };
  } catch (error) {
    return { ok: false, reason: isMeshError(error) ? `${error.code}: ${error.message}` : String(error) };
  }
}
