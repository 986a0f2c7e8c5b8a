/**
 * Applies usage events exactly once, in batches. Each replica gathers the events its handlers
 * hand it (one batch per tenant and day per flush, one flush at a time) and writes a batch in
 * two round trips: one unordered insertMany claiming every event for the batch, then one insert
 * of the batch's summed cells as the next slot of the day ledger (the commit). An event counts
 * iff the batch holding its claim committed; see README "Exactly once".
 */
import { randomUUID } from "node:crypto";
import type { UsageEvent } from "../../protocol/llm.ts";
import { MeshError, type ActorStore } from "../../runtime/index.ts";
import { createDayLedger, type DayLedger } from "./day-ledger.ts";
import { utcDay } from "./days.ts";
import { cellOf, countersOf, sumCells, type UsageCell } from "./usage-cells.ts";
import { keys, USAGE_EVENTS, type EventClaim } from "./usage-records.ts";

const DAY_MS = 86_400_000;
/** Claim rounds per flush: a claim can only move on to a new generation after its batch was aborted. */
const CLAIM_ROUNDS = 4;

export interface LedgerOptions {
  /** Largest batch one flush writes (the insertMany limit of the store is 1000). */
  readonly maxBatch: number;
  /** Days the day ledgers (slots, snapshots) are kept: reports reach back this far. */
  readonly rollupRetentionDays: number;
}

export interface UsageLedger {
  /**
   * Resolves once the event is counted (now or before), with the day's cells through the batch
   * that counted it when this call committed that batch; rejects with a retryable error otherwise.
   */
  apply(store: ActorStore, entry: { tenant: string; eventId: string; event: UsageEvent; retentionDays: number }): Promise<UsageCell[] | undefined>;
  /** The day ledger over this store (reports and spend read through it). */
  dayLedger(store: ActorStore): DayLedger;
}

interface Pending {
  readonly store: ActorStore;
  readonly tenant: string;
  readonly day: string;
  readonly eventId: string;
  readonly event: UsageEvent;
  readonly retentionDays: number;
  readonly resolve: (dayCells: UsageCell[] | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export function createUsageLedger(options: LedgerOptions): UsageLedger {
  const ledgers = new WeakMap<ActorStore, DayLedger>();
  const dayLedger = (store: ActorStore) => {
    let ledger = ledgers.get(store);
    if (!ledger) ledgers.set(store, ledger = createDayLedger(store));
    return ledger;
  };
  let queue: Pending[] = [];
  let flushing = false;

  async function flushAll(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const taken = queue.slice(0, options.maxBatch);
        queue = queue.slice(taken.length);
        const groups = new Map<string, Pending[]>();
        for (const pending of taken) {
          const key = `${pending.tenant}/${pending.day}`;
          const group = groups.get(key);
          if (group) group.push(pending);
          else groups.set(key, [pending]);
        }
        await Promise.all([...groups.values()].map((group) => applyGroup(group).catch((error: unknown) => {
          for (const pending of group) pending.reject(error);
        })));
      }
    } finally {
      flushing = false;
    }
  }

  async function applyGroup(group: Pending[]): Promise<void> {
    const { store, tenant, day } = group[0]!;
    const ledger = dayLedger(store);
    const claims = store.collection<EventClaim>(USAGE_EVENTS);
    const batch = randomUUID();
    const rollupExpiry = new Date(Date.parse(day) + (options.rollupRetentionDays + 1) * DAY_MS);
    // Two deliveries of one event in one batch share one claim and one outcome.
    const byEvent = new Map<string, Pending[]>();
    for (const pending of group) {
      const same = byEvent.get(pending.eventId);
      if (same) same.push(pending);
      else byEvent.set(pending.eventId, [pending]);
    }
    const settle = (eventId: string, outcome: { error?: unknown; dayCells?: UsageCell[] } = {}) => {
      for (const pending of byEvent.get(eventId) ?? []) {
        if (outcome.error === undefined) pending.resolve(outcome.dayCells);
        else pending.reject(outcome.error);
      }
    };

    let toClaim = [...byEvent.values()].map((same) => ({ pending: same[0]!, generation: 1 }));
    const won: Pending[] = [];
    for (let round = 0; round < CLAIM_ROUNDS && toClaim.length > 0; round++) {
      const byKey = new Map(toClaim.map((claim) => [keys.claim(claim.pending.eventId, claim.generation), claim]));
      const { inserted, duplicates } = await claims.insertMany(tenant, [...byKey].map(([key, { pending }]) => ({ key, doc: claimOf(pending, batch) })));
      for (const key of inserted) won.push(byKey.get(key)!.pending);
      const next: typeof toClaim = [];
      await Promise.all(duplicates.map(async (key) => {
        const claim = byKey.get(key)!;
        const holder = await claims.get(tenant, key);
        // Gone since (expired): claim the same generation again.
        if (!holder) return void next.push(claim);
        if ((await ledger.decide(tenant, holder.batch, rollupExpiry)) === "committed") return settle(claim.pending.eventId);
        next.push({ pending: claim.pending, generation: claim.generation + 1 });
      }));
      toClaim = next;
    }
    for (const { pending } of toClaim) settle(pending.eventId, { error: new MeshError("UNAVAILABLE", "usage event still contended", { retryAfterMs: 500 }) });
    if (won.length === 0) return;

    const cells = sumCells(won.map((pending) => cellOf(pending.event, countersOf(pending.event))));
    const commit = await ledger.commit(tenant, day, batch, cells, rollupExpiry);
    if (commit.outcome === "aborted") {
      // Aborted by a redelivery's resolver: the events come back and are claimed anew.
      const error = new MeshError("UNAVAILABLE", "usage batch aborted by a concurrent delivery", { retryAfterMs: 200 });
      for (const pending of won) settle(pending.eventId, { error });
      return;
    }
    for (const pending of won) settle(pending.eventId, { dayCells: commit.slot?.cells });
    // After the events are released. The head is only a hint that readers probe past, so a
    // failed write changes no total and fails nothing (the next commit writes it again).
    if (commit.slot) await ledger.writeHead(tenant, commit.slot).catch(() => undefined);
  }

  return {
    apply(store, entry) {
      return new Promise<UsageCell[] | undefined>((resolve, reject) => {
        // The first event of an idle replica is written at once; the ones arriving meanwhile
        // form the next batch, so batches grow with the load and add no latency when it is light.
        queue.push({ store, ...entry, day: utcDay(entry.event.at), resolve, reject });
        if (!flushing) void flushAll();
      });
    },
    dayLedger,
  };
}

function claimOf(pending: Pending, batch: string): EventClaim {
  const { event } = pending;
  const at = new Date(event.at);
  return {
    batch,
    day: pending.day,
    service: event.service,
    model: event.model,
    ...countersOf(event),
    at,
    expiresAt: new Date(at.getTime() + pending.retentionDays * DAY_MS),
  };
}
