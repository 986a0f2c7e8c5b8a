import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { SupervisedProcess } from "../servers/supervised-process.ts";
import { nextCrashCount, restartDelay, type BackoffPolicy } from "./restart-backoff.ts";

export type ReplicaState = "starting" | "ready" | "stopping" | "waiting-restart";

export interface ReplicaView {
  readonly slot: number;
  readonly instanceId: string;
  readonly state: ReplicaState;
  readonly restarts: number;
  readonly logFile: string;
}

export type SupervisorEvent =
  | { type: "starting"; actor: string; instanceId: string; slot: number }
  | { type: "ready"; actor: string; instanceId: string; slot: number; afterMs: number }
  | { type: "not-ready"; actor: string; instanceId: string; slot: number; logFile: string }
  | { type: "crashed"; actor: string; instanceId: string; slot: number; exitCode: number | null; restartInMs: number; logFile: string }
  | { type: "stopped"; actor: string; instanceId: string; slot: number };

/** How replicas are started and recognised as ready; the supervisor itself knows no processes. */
export interface ReplicaLauncher {
  spawn(actor: string, instanceId: string, logFile: string): SupervisedProcess;
  awaitReady(actor: string, instanceId: string, process: SupervisedProcess): Promise<boolean>;
}

export interface ActorReplicasOptions {
  readonly launcher: ReplicaLauncher;
  readonly logDir: string;
  readonly backoff: BackoffPolicy;
  /** Time a replica gets to drain after SIGTERM before it is killed. */
  readonly stopGraceMs: number;
  readonly onEvent: (event: SupervisorEvent) => void;
}

export interface ScaleOutcome {
  readonly actor: string;
  readonly replicas: number;
  readonly ready: readonly string[];
  /** Replicas that exited or did not answer in time while starting; crashed ones are being restarted. */
  readonly failed: readonly string[];
}

interface Slot {
  readonly number: number;
  readonly logFile: string;
  instanceId: string;
  process: SupervisedProcess | undefined;
  state: ReplicaState;
  wanted: boolean;
  crashes: number;
  restarts: number;
  readyAt: number;
  ready: Promise<boolean>;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * The replicas of one actor, numbered 1..n. Scaling up starts the missing numbers and waits
 * until each answers the service API (it has then joined the queue group); scaling down
 * stops the highest numbers with SIGTERM, which drains them before they exit. A replica
 * that exits on its own is restarted after a growing delay. Scale calls run one at a time.
 */
export class ActorReplicas {
  readonly actor: string;
  readonly #options: ActorReplicasOptions;
  readonly #slots = new Map<number, Slot>();
  #desired = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(actor: string, options: ActorReplicasOptions) {
    this.actor = actor;
    this.#options = options;
  }

  get desired(): number {
    return this.#desired;
  }

  view(): ReplicaView[] {
    return [...this.#slots.values()].sort((a, b) => a.number - b.number).map((slot) => ({
      slot: slot.number, instanceId: slot.instanceId, state: slot.state, restarts: slot.restarts, logFile: slot.logFile,
    }));
  }

  scale(replicas: number): Promise<ScaleOutcome> {
    const next = this.#queue.then(() => this.#scale(replicas));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #scale(replicas: number): Promise<ScaleOutcome> {
    this.#desired = replicas;
    const removed = [...this.#slots.values()].filter((slot) => slot.number > replicas);
    await Promise.all(removed.map((slot) => this.#stopSlot(slot)));
    const kept: Slot[] = [];
    for (let number = 1; number <= replicas; number++) {
      let slot = this.#slots.get(number);
      if (!slot) {
        slot = this.#newSlot(number);
        this.#launch(slot);
      }
      kept.push(slot);
    }
    const outcomes = await Promise.all(kept.map(async (slot) => ({ slot, ok: await slot.ready })));
    return {
      actor: this.actor,
      replicas,
      ready: outcomes.filter((o) => o.ok).map((o) => o.slot.instanceId),
      failed: outcomes.filter((o) => !o.ok).map((o) => o.slot.instanceId),
    };
  }

  #newSlot(number: number): Slot {
    const slot: Slot = {
      number, logFile: join(this.#options.logDir, `${this.actor}-${number}.log`), instanceId: "", process: undefined,
      state: "starting", wanted: true, crashes: 0, restarts: 0, readyAt: 0, ready: Promise.resolve(false), restartTimer: undefined,
    };
    this.#slots.set(number, slot);
    return slot;
  }

  #launch(slot: Slot): void {
    const { launcher, onEvent } = this.#options;
    slot.instanceId = `${this.actor}-${slot.number}-${randomBytes(2).toString("hex")}`;
    slot.state = "starting";
    slot.readyAt = 0;
    const started = Date.now();
    const instanceId = slot.instanceId;
    onEvent({ type: "starting", actor: this.actor, instanceId, slot: slot.number });
    const process = launcher.spawn(this.actor, instanceId, slot.logFile);
    slot.process = process;
    slot.ready = launcher.awaitReady(this.actor, instanceId, process).then((ok) => {
      if (slot.process !== process) return ok;
      if (ok) {
        slot.state = "ready";
        slot.readyAt = Date.now();
        onEvent({ type: "ready", actor: this.actor, instanceId, slot: slot.number, afterMs: Date.now() - started });
      } else if (!process.hasExited()) {
        onEvent({ type: "not-ready", actor: this.actor, instanceId, slot: slot.number, logFile: slot.logFile });
      }
      return ok;
    });
    void process.exited.then((code) => this.#onExit(slot, process, code));
  }

  #onExit(slot: Slot, process: SupervisedProcess, exitCode: number | null): void {
    if (slot.process !== process) return;
    if (!slot.wanted) return; // stopped on purpose: #stopSlot reports it
    const uptime = slot.readyAt ? Date.now() - slot.readyAt : 0;
    slot.crashes = nextCrashCount(this.#options.backoff, slot.crashes, uptime);
    const delay = restartDelay(this.#options.backoff, slot.crashes);
    slot.state = "waiting-restart";
    this.#options.onEvent({
      type: "crashed", actor: this.actor, instanceId: slot.instanceId, slot: slot.number, exitCode, restartInMs: delay, logFile: slot.logFile,
    });
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (!slot.wanted) return;
      slot.restarts++;
      this.#launch(slot);
    }, delay);
  }

  async #stopSlot(slot: Slot): Promise<void> {
    slot.wanted = false;
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
    slot.state = "stopping";
    await slot.process?.stop(this.#options.stopGraceMs);
    this.#slots.delete(slot.number);
    this.#options.onEvent({ type: "stopped", actor: this.actor, instanceId: slot.instanceId, slot: slot.number });
  }
}
