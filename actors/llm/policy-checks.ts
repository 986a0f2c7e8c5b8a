import type { CompletionRequest } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError } from "../../runtime/index.ts";

/** The tenant's model allow-list, prompt-size limit and tool allow-list, checked before any lease. */
export function enforcePolicy(policy: TenantPolicy, request: CompletionRequest, promptTokens: number): void {
  if (policy.allowedModels.length > 0 && !policy.allowedModels.includes(request.model)) {
    throw new MeshError("FORBIDDEN", `model ${request.model} is not allowed for this tenant`);
  }
  if (promptTokens > policy.maxPromptTokens) {
    throw new MeshError("BAD_REQUEST", `prompt has ${promptTokens} tokens, limit ${policy.maxPromptTokens}`);
  }
  const refused = (request.tools ?? []).map((tool) => tool.name).filter((name) => !policy.allowedTools.includes(name));
  if (refused.length > 0) {
    throw new MeshError("FORBIDDEN", `tool ${refused[0]} is not allowed for this tenant`);
  }
}

/** Temperature 0 and no tools: the same request gets the same answer, so it may be cached. */
export function isDeterministic(request: CompletionRequest): boolean {
  return request.temperature === 0 && (request.tools?.length ?? 0) === 0;
}
