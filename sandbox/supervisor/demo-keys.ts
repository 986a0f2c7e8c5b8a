import { gatewayContract } from "../../protocol/gateway.ts";
import type { NatsConnection } from "@nats-io/nats-core";
import { actorClient, MeshClient } from "../../runtime/index.ts";

/** The sandbox gateway's fixed local port (override with MESHWORK_GATEWAY_PORT). */
export const DEFAULT_GATEWAY_PORT = 8480;

/** A fresh API key per tenant (label "sandbox"), through the gateway's key administration as the operator. */
export async function issueDemoKeys(nc: NatsConnection, tenants: readonly string[]): Promise<Record<string, string>> {
  const mesh = new MeshClient(nc, { service: "sandbox" });
  try {
    const keys = actorClient(mesh, gatewayContract);
    const issued: Record<string, string> = {};
    for (const tenant of tenants) issued[tenant] = (await keys.createKey({ label: "sandbox" }, { tenant, timeoutMs: 10_000 })).key;
    return issued;
  } finally {
    mesh.close();
  }
}

/** `MESHWORK_API_KEY_<TENANT>` (upper case, dashes as underscores) for each key. */
export function apiKeyVariables(keys: Readonly<Record<string, string>>): Record<`MESHWORK_API_KEY_${string}`, string> {
  return Object.fromEntries(Object.entries(keys).map(([tenant, key]) => [`MESHWORK_API_KEY_${tenant.toUpperCase().replaceAll("-", "_")}`, key]));
}
