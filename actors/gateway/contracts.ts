import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import type { ActorContract, RequestContract } from "../../protocol/contract.ts";
import { gatewayContract } from "../../protocol/gateway.ts";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";

/** Every actor's contract: the HTTP routes and the OpenAPI document are generated from these. */
export const MESH_CONTRACTS: readonly ActorContract[] = [tenantsContract, aiCapacityContract, llmContract, usageContract, gatewayContract];

export interface HttpRoute {
  readonly path: string;
  readonly request: RequestContract;
  /** Tenant-facing requests are served; the rest are listed and answered 403 (operator-only, or internal). */
  readonly served: boolean;
}

/** `POST /v1/<actor>/<verb>` for every request subject `<actor>.<verb>`. */
export const HTTP_ROUTES: ReadonlyMap<string, HttpRoute> = new Map(MESH_CONTRACTS.flatMap((contract) =>
  Object.values(contract.requests).map((request): [string, HttpRoute] => {
    const path = `/v1/${request.subject.replace(".", "/")}`;
    return [path, { path, request, served: request.tenantFacing === true }];
  })));
