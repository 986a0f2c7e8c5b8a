import type { Logger } from "pino";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import type { MeshClient, TenantPolicyCache } from "../../runtime/index.ts";
import type { GatewayConfig } from "./config.ts";
import type { EdgeRate } from "./edge-rate.ts";
import type { HttpMetrics } from "./http-metrics.ts";
import type { KeyCache } from "./key-cache.ts";
import type { EdgeRequestMeta } from "./request-meta.ts";

/** What the HTTP app needs from the actor process. */
export interface GatewayServices {
  readonly config: GatewayConfig;
  readonly mesh: MeshClient;
  readonly keys: KeyCache;
  readonly policies: TenantPolicyCache;
  readonly rate: EdgeRate;
  readonly metrics: HttpMetrics;
  readonly log: Logger;
  /** True once the replica is draining: /readyz fails and responses close their connection. */
  draining(): boolean;
  /** NATS connected and the database reachable. */
  ready(): Promise<boolean>;
}

/** Hono variables set by the tenant middleware. */
export interface EdgeEnv {
  Variables: {
    tenant: string;
    policy: TenantPolicy;
    traceId: string;
    meta: EdgeRequestMeta;
  };
}
