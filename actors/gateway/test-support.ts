/** Helpers for the gateway's tests (not imported by the actor). */
import { gatewayContract } from "../../protocol/gateway.ts";
import { actorClient } from "../../runtime/index.ts";
import type { TestServers } from "../../sandbox/testing/test-servers.ts";
import type { Logger } from "pino";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { startLlmMesh, type MeshOptions } from "../llm/test-support.ts";
import { createGatewayActor, type GatewayHandle } from "./actor.ts";
import type { parseGatewayConfig } from "./config.ts";

/** The llm mesh (tenants, ai-capacity, llm, usage, test provider) and a gateway on a free port. */
export async function startGatewayMesh(servers: TestServers, options: { gateway?: Parameters<typeof parseGatewayConfig>[0]; mesh?: MeshOptions; gatewayLogger?: Logger } = {}) {
  const mesh = await startLlmMesh(servers, { usage: {}, ...options.mesh });
  const handle: GatewayHandle = { port: 0 };
  const gateway = await startInProcess(createGatewayActor({ port: 0, keyCacheMs: 0, policyCacheMs: 0, ...options.gateway }, handle), servers, {}, options.gatewayLogger);
  const keys = actorClient(mesh.mesh, gatewayContract);
  const url = `http://127.0.0.1:${handle.port}`;
  return {
    ...mesh,
    gateway,
    url,
    baseURL: `${url}/v1`,
    keys,
    /** A tenant with the test policy (overrides merged) and a fresh API key for it. */
    async tenantWithKey(tenant: string, policy: Parameters<typeof mesh.createTenant>[1] = {}): Promise<string> {
      await mesh.createTenant(tenant, policy);
      return (await keys.createKey({}, { tenant })).key;
    },
  };
}
