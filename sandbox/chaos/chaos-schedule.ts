/**
 * When and what the chaos run kills: actor replicas at random intervals for the whole run, and one
 * NATS node once, at a random moment of its middle part, restarted a few seconds later. A seed
 * makes the schedule repeatable (`CHAOS_SEED`); the random source is passed in so the schedule is
 * a pure function of it.
 */

export type ChaosAction =
  | { readonly atMs: number; readonly kind: "kill-replica"; readonly pick: number }
  | { readonly atMs: number; readonly kind: "kill-nats"; readonly pick: number }
  | { readonly atMs: number; readonly kind: "restart-nats" };

export interface ScheduleOptions {
  readonly durationMs: number;
  /** Pause between replica kills, drawn uniformly from this range. */
  readonly replicaEveryMs?: readonly [number, number];
  /** How long the killed NATS node stays down. */
  readonly natsDownMs?: readonly [number, number];
}

/** A small seeded generator (mulberry32): enough for a repeatable schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chaosSchedule(random: () => number, { durationMs, replicaEveryMs = [4000, 9000], natsDownMs = [3000, 8000] }: ScheduleOptions): ChaosAction[] {
  const between = ([low, high]: readonly [number, number]) => low + random() * (high - low);
  const actions: ChaosAction[] = [];
  for (let at = between(replicaEveryMs); at < durationMs; at += between(replicaEveryMs)) {
    actions.push({ atMs: Math.round(at), kind: "kill-replica", pick: random() });
  }
  const natsKill = durationMs * (0.2 + random() * 0.4);
  actions.push({ atMs: Math.round(natsKill), kind: "kill-nats", pick: random() });
  actions.push({ atMs: Math.round(Math.min(natsKill + between(natsDownMs), durationMs)), kind: "restart-nats" });
  return actions.sort((a, b) => a.atMs - b.atMs);
}
