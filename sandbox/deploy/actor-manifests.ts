/**
 * The Kubernetes objects of one actor, derived from its definition: a Deployment (readiness on
 * /readyz, a grace period longer than the drain), a PodDisruptionBudget and a KEDA ScaledObject
 * (request rate from the actors' Prometheus metrics; the lag of each durable consumer it owns).
 */
import { streamName } from "../../protocol/subjects.ts";
import type { ActorDefinition } from "../../runtime/index.ts";
import { durableName, parseEventSubject } from "../../runtime/events/consumer-config.ts";
import { actorNodeFlags } from "../build/production-runtime.ts";

type Manifest = Record<string, unknown>;

/** Default drain of the runtime (ActorLimits.drainTimeoutMs). */
const DEFAULT_DRAIN_MS = 30_000;
/** Time past the drain for NATS and the database to close before the kubelet kills the pod. */
const CLOSE_MARGIN_SECONDS = 10;
const METRICS_PORT = 9464;

/** Where KEDA finds the NATS monitoring endpoint (the headless service: KEDA asks each node by name) and Prometheus. */
export const CLUSTER_ENDPOINTS = {
  natsMonitoring: "nats-headless.meshwork.svc.cluster.local:8222",
  prometheus: "http://prometheus-operated.monitoring.svc.cluster.local:9090",
} as const;

interface Sizing {
  /** Memory request: idle resident memory measured by `make bench` (lean replicas), rounded up with headroom. */
  readonly memoryMi: number;
  readonly memoryLimitMi: number;
  /** Requests per second one replica is sized for; KEDA adds replicas above it. */
  readonly requestsPerSecond: number;
}

const SIZING: Readonly<Record<string, Sizing>> = {
  llm: { memoryMi: 160, memoryLimitMi: 384, requestsPerSecond: 50 },
  "ai-capacity": { memoryMi: 96, memoryLimitMi: 256, requestsPerSecond: 150 },
};
const DEFAULT_SIZING: Sizing = { memoryMi: 96, memoryLimitMi: 256, requestsPerSecond: 200 };
/** Actors that also serve HTTP (the gateway, the edge the others sit behind): its port, set through its own variables, and a Service in front. */
const HTTP_EDGE: Readonly<Record<string, { readonly port: number; readonly env: readonly { name: string; value: string }[] }>> = {
  gateway: { port: 8080, env: [{ name: "GATEWAY_PORT", value: "8080" }, { name: "GATEWAY_HOST", value: "0.0.0.0" }] },
};

/** Events pending per replica before KEDA adds one. */
const LAG_PER_REPLICA = 100;

export function terminationGraceSeconds(definition: ActorDefinition): number {
  return Math.ceil((definition.limits?.drainTimeoutMs ?? DEFAULT_DRAIN_MS) / 1000) + CLOSE_MARGIN_SECONDS;
}

/** Secret names the manifests read, per actor (`mesh k8s-secrets` writes them). */
export const actorSecretNames = (actor: string) => ({ natsCreds: `${actor}-nats-creds`, mongo: `${actor}-mongo` });

function deployment(definition: ActorDefinition): Manifest {
  const name = definition.name;
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/component": "actor", "app.kubernetes.io/part-of": "meshwork" };
  const sizing = SIZING[name] ?? DEFAULT_SIZING;
  const secrets = actorSecretNames(name);
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({ httpGet: { path, port: "metrics" }, periodSeconds, failureThreshold, timeoutSeconds: 3 });
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name, labels },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels, annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(METRICS_PORT), "prometheus.io/path": "/metrics" } },
        spec: {
          // SIGTERM starts the drain; in-flight work gets drainTimeoutMs, then the connections close.
          terminationGracePeriodSeconds: terminationGraceSeconds(definition),
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          containers: [{
            name: "actor",
            image: "meshwork",
            args: [...actorNodeFlags(name), "dist/actors/main.js", name],
            env: [
              { name: "NATS_URL", value: "nats://nats:4222" },
              { name: "NATS_CREDS", value: "/etc/meshwork/nats/nats.creds" },
              { name: "MONGO_URL", valueFrom: { secretKeyRef: { name: secrets.mongo, key: "MONGO_URL" } } },
              { name: "MESHWORK_INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "METRICS_PORT", value: String(METRICS_PORT) },
              { name: "METRICS_HOST", value: "0.0.0.0" },
              { name: "LOG_LEVEL", value: "info" },
              // Streams, dead-letter streams and durable consumers replicated on all three NATS nodes.
              { name: "MESHWORK_STREAM_REPLICAS", value: "3" },
              ...(HTTP_EDGE[name]?.env ?? []),
            ],
            // The actor's own settings (its README lists them), and llm's provider.
            envFrom: [
              { configMapRef: { name: `${name}-settings`, optional: true } },
              ...(name === "llm" ? [{ secretRef: { name: "llm-provider" } }] : []),
            ],
            ports: [{ name: "metrics", containerPort: METRICS_PORT }, ...(HTTP_EDGE[name] ? [{ name: "http", containerPort: HTTP_EDGE[name].port }] : [])],
            startupProbe: probe("/healthz", 2, 30),
            readinessProbe: probe("/readyz", 5, 2),
            livenessProbe: probe("/healthz", 10, 3),
            resources: { requests: { cpu: "100m", memory: `${sizing.memoryMi}Mi` }, limits: { memory: `${sizing.memoryLimitMi}Mi` } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            volumeMounts: [{ name: "nats-creds", mountPath: "/etc/meshwork/nats", readOnly: true }],
          }],
          // Only this actor's own creds file: its NATS user may touch only its own subjects.
          volumes: [{ name: "nats-creds", secret: { secretName: secrets.natsCreds, defaultMode: 0o440, items: [{ key: "nats.creds", path: "nats.creds" }] } }],
        },
      },
    },
  };
}

function disruptionBudget(definition: ActorDefinition): Manifest {
  return {
    apiVersion: "policy/v1", kind: "PodDisruptionBudget",
    metadata: { name: definition.name, labels: { "app.kubernetes.io/name": definition.name, "app.kubernetes.io/part-of": "meshwork" } },
    spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": definition.name } } },
  };
}

function scaledObject(definition: ActorDefinition): Manifest {
  const name = definition.name;
  const sizing = SIZING[name] ?? DEFAULT_SIZING;
  const requestTrigger = {
    type: "prometheus",
    name: "request-rate",
    metadata: {
      serverAddress: CLUSTER_ENDPOINTS.prometheus,
      query: `sum(rate(mesh_requests_total{actor="${name}"}[2m]))`,
      threshold: String(sizing.requestsPerSecond),
    },
  };
  const lagTriggers = (definition.consumers ?? []).map((consumer) => {
    const { producerActor, eventName } = parseEventSubject(consumer.event.subject);
    const durable = durableName(name, eventName);
    return {
      type: "nats-jetstream",
      name: `lag-${durable}`.toLowerCase().replace(/[^a-z0-9-]/g, "-"),
      metadata: {
        natsServerMonitoringEndpoint: CLUSTER_ENDPOINTS.natsMonitoring,
        stream: streamName(producerActor),
        consumer: durable,
        lagThreshold: String(LAG_PER_REPLICA),
      },
      authenticationRef: { name: "nats-jetstream-mesh-account" },
    };
  });
  return {
    apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject",
    metadata: { name, labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "meshwork" } },
    spec: {
      scaleTargetRef: { name },
      minReplicaCount: 2,
      maxReplicaCount: 12,
      pollingInterval: 15,
      cooldownPeriod: 300,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } } },
      triggers: [requestTrigger, ...lagTriggers],
    },
  };
}

/** The Service in front of an HTTP edge actor (an Ingress or load balancer of the cluster's own points at it). */
function httpService(definition: ActorDefinition): Manifest[] {
  const edge = HTTP_EDGE[definition.name];
  if (!edge) return [];
  return [{
    apiVersion: "v1", kind: "Service",
    metadata: { name: definition.name, labels: { "app.kubernetes.io/name": definition.name, "app.kubernetes.io/part-of": "meshwork" } },
    spec: { selector: { "app.kubernetes.io/name": definition.name }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  }];
}

/** Every object of one actor, in apply order. */
export function actorManifests(definition: ActorDefinition): Manifest[] {
  return [deployment(definition), ...httpService(definition), disruptionBudget(definition), scaledObject(definition)];
}
