import { z } from "zod";

/** Process configuration, parsed once from the environment at start and frozen. */
export const RuntimeConfigSchema = z.object({
  natsUrl: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** The process's NATS user credentials (`mesh creds` writes one file per actor); the server refuses anonymous connections. */
  natsCreds: z.string().min(1).optional(),
  mongoUrl: z.string().min(1).default("mongodb://127.0.0.1:27017/"),
  /** Prefix for every actor database name (tests and side-by-side meshes). */
  databasePrefix: z.string().regex(/^[a-zA-Z0-9_]+$/).optional(),
  instanceId: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Port for /metrics, /healthz, /readyz; 0 picks a free one, -1 disables the HTTP endpoint. */
  metricsPort: z.coerce.number().int().min(-1).max(65535).default(0),
  /** Address the metrics endpoint binds; 0.0.0.0 in containers so Prometheus can scrape it. */
  metricsHost: z.string().min(1).default("127.0.0.1"),
  maxInFlight: z.coerce.number().int().positive().optional(),
  /** OTLP/HTTP endpoint for traces (OTEL_EXPORTER_OTLP_ENDPOINT); absent: tracing off, no SDK loaded. */
  otlpEndpoint: z.url().optional(),
  /** Copies of the actor's streams in a NATS cluster: 3 on a 3-node cluster survives the loss of a node; 1 on a single server. */
  streamReplicas: z.coerce.number().int().min(1).max(5).default(1),
});
export type RuntimeConfig = Readonly<z.infer<typeof RuntimeConfigSchema>>;

export function runtimeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = RuntimeConfigSchema.safeParse({
    natsUrl: env.NATS_URL || undefined,
    natsCreds: env.NATS_CREDS || undefined,
    mongoUrl: env.MONGO_URL || undefined,
    databasePrefix: env.MESHWORK_DB_PREFIX || undefined,
    instanceId: env.MESHWORK_INSTANCE_ID || undefined,
    logLevel: env.LOG_LEVEL || undefined,
    metricsPort: env.METRICS_PORT || undefined,
    metricsHost: env.METRICS_HOST || undefined,
    maxInFlight: env.MESHWORK_MAX_IN_FLIGHT || undefined,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    streamReplicas: env.MESHWORK_STREAM_REPLICAS || undefined,
  });
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${z.prettifyError(parsed.error)}`);
  }
  return Object.freeze(parsed.data);
}
