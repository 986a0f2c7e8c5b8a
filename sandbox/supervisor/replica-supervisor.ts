import { mkdir } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { ActorReplicas, type ReplicaView, type ScaleOutcome, type SupervisorEvent } from "./actor-replicas.ts";
import { awaitReplicaReady, spawnReplica } from "./replica-process.ts";
import { DEFAULT_BACKOFF, type BackoffPolicy } from "./restart-backoff.ts";

export type { ReplicaView, ScaleOutcome, SupervisorEvent } from "./actor-replicas.ts";

/** The most replicas one actor may have in the sandbox (each is a Node process on this machine). */
export const MAX_REPLICAS = 16;

export interface ReplicaSupervisorOptions {
  /** Used to recognise ready replicas through the service API. */
  readonly nc: NatsConnection;
  /** Actors this supervisor may run (names from actors/index.ts). */
  readonly actors: readonly string[];
  readonly logDir: string;
  /** Environment of every replica (NATS_URL, MONGO_URL, OPENAI_BASE_URL, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Each actor's own creds file (NATS_CREDS of its replicas); actors missing here use `env`'s. */
  readonly actorCreds?: Readonly<Record<string, string>>;
  /** How long a starting replica may take to answer (default 2 min: a busy 2-core machine is slow). */
  readonly readyTimeoutMs?: number;
  readonly stopGraceMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly onEvent?: (event: SupervisorEvent) => void;
}

export interface ActorView {
  readonly actor: string;
  readonly desired: number;
  readonly replicas: readonly ReplicaView[];
}

export class UnknownActorError extends Error {}

/** Starts, stops, scales and restarts the replica processes of every actor in the sandbox. */
export class ReplicaSupervisor {
  readonly #actors = new Map<string, ActorReplicas>();
  readonly #options: ReplicaSupervisorOptions;

  constructor(options: ReplicaSupervisorOptions) {
    this.#options = options;
    const { nc, env, readyTimeoutMs = 120_000 } = options;
    for (const actor of options.actors) {
      this.#actors.set(actor, new ActorReplicas(actor, {
        logDir: options.logDir,
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        stopGraceMs: options.stopGraceMs ?? 15_000,
        onEvent: (event) => options.onEvent?.(event),
        launcher: {
          spawn: (name, instanceId, logFile) => spawnReplica({ actor: name, instanceId, logFile, env: options.actorCreds?.[name] ? { ...env, NATS_CREDS: options.actorCreds[name] } : env }),
          awaitReady: (name, instanceId, process) => awaitReplicaReady(nc, name, instanceId, process, readyTimeoutMs),
        },
      }));
    }
  }

  get actors(): readonly string[] {
    return [...this.#actors.keys()];
  }

  /** Sets the number of replicas of `actor`; resolves when the new ones answer or the removed ones have exited. */
  async scale(actor: string, replicas: number): Promise<ScaleOutcome> {
    const target = this.#actors.get(actor);
    if (!target) throw new UnknownActorError(`unknown actor "${actor}"; the sandbox runs: ${this.actors.join(", ")}`);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
      throw new RangeError(`replicas must be an integer from 0 to ${MAX_REPLICAS}`);
    }
    await mkdir(this.#options.logDir, { recursive: true });
    return target.scale(replicas);
  }

  view(): ActorView[] {
    return [...this.#actors.values()].map((a) => ({ actor: a.actor, desired: a.desired, replicas: a.view() }));
  }

  /** Drains and stops every replica (SIGTERM, then SIGKILL after the grace time). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#actors.values()].map((a) => a.scale(0)));
  }
}
