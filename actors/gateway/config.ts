import { z } from "zod";

/** The gateway's settings, parsed once at start (environment names in the README). */
export const GatewayConfigSchema = z.object({
  /** HTTP port; 0 picks a free one. */
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /** With it, the first free port from `port` to `portLast` (replicas on one machine, behind the sandbox's balancer). */
  portLast: z.coerce.number().int().min(1).max(65535).optional(),
  host: z.string().min(1).default("127.0.0.1"),
  /** Largest request body; a larger one is 413 before it is parsed. */
  bodyLimitBytes: z.coerce.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
  /** How long a key's lookup (tenant, or revoked) is reused: the revocation bound. */
  keyCacheMs: z.coerce.number().int().nonnegative().max(300_000).default(5000),
  /** How long a tenant's policy (suspension, rate, allowed models) is reused. */
  policyCacheMs: z.coerce.number().int().nonnegative().max(300_000).default(5000),
  /** Gateway replicas sharing a tenant's edge rate; each enforces its share (rate / replicas). */
  replicas: z.coerce.number().int().positive().max(1000).default(1),
  /** A client must send its headers within this (slow-client bound, Node's headersTimeout). */
  headersTimeoutMs: z.coerce.number().int().positive().default(10_000),
  /** A client must send its whole request within this (Node's requestTimeout). */
  requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: z.coerce.number().int().positive().default(5000),
  /** Deadline of a request without a timeout header, ms (chat completions: `completionTimeoutMs`). */
  defaultTimeoutMs: z.coerce.number().int().positive().max(300_000).default(5000),
  completionTimeoutMs: z.coerce.number().int().positive().max(300_000).default(60_000),
});
export type GatewayConfig = Readonly<z.output<typeof GatewayConfigSchema>>;

export function parseGatewayConfig(input: z.input<typeof GatewayConfigSchema> = {}): GatewayConfig {
  return Object.freeze(GatewayConfigSchema.parse(input));
}

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = GatewayConfigSchema.safeParse({
    port: env.GATEWAY_PORT || undefined,
    portLast: env.GATEWAY_PORT_LAST || undefined,
    host: env.GATEWAY_HOST || undefined,
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES || undefined,
    keyCacheMs: env.GATEWAY_KEY_CACHE_MS || undefined,
    policyCacheMs: env.GATEWAY_POLICY_CACHE_MS || undefined,
    replicas: env.GATEWAY_REPLICAS || undefined,
    headersTimeoutMs: env.GATEWAY_HEADERS_TIMEOUT_MS || undefined,
    requestTimeoutMs: env.GATEWAY_REQUEST_TIMEOUT_MS || undefined,
    keepAliveTimeoutMs: env.GATEWAY_KEEP_ALIVE_TIMEOUT_MS || undefined,
    defaultTimeoutMs: env.GATEWAY_DEFAULT_TIMEOUT_MS || undefined,
    completionTimeoutMs: env.GATEWAY_COMPLETION_TIMEOUT_MS || undefined,
  });
  if (!parsed.success) throw new Error(`invalid gateway configuration: ${z.prettifyError(parsed.error)}`);
  return Object.freeze(parsed.data);
}
