/**
 * A tenant's day ledger: numbered slots, one per committed batch, each holding the day's running
 * total up to and including its batch. Only unique inserts decide anything (the one write
 * FerretDB makes atomic); the head is a hint that readers probe past. A day's total is the last
 * slot's: a couple of round trips of point reads, whatever the history.
 */
import { hasCode, type ActorStore } from "../../runtime/index.ts";
import { sumCells, type UsageCell } from "./usage-cells.ts";
import { keys, USAGE_HEADS, USAGE_SLOTS, type BatchAbort, type LedgerHead, type UsageSlot } from "./usage-records.ts";

/** Slots read per round trip when looking for the last one (the head is usually its predecessor or itself). */
const PROBE = 2;
const MAX_REMEMBERED_DAYS = 10_000;

export type BatchOutcome = "committed" | "aborted";

export type Commit =
  /** `slot` is the batch's slot (with the day's total through it) when this call found it. */
  | { readonly outcome: "committed"; readonly slot?: UsageSlot }
  | { readonly outcome: "aborted" };

export interface DayLedger {
  /** Commits a batch's cells as the next slot of the day, unless the batch was aborted first. */
  commit(tenant: string, day: string, batch: string, cells: UsageCell[], expiresAt: Date): Promise<Commit>;
  /** Points the day's head at a committed slot (a hint for readers; last writer wins). */
  writeHead(tenant: string, slot: UsageSlot): Promise<void>;
  /** Decides an undecided batch by aborting it; a batch that already committed stays committed. */
  decide(tenant: string, batch: string, expiresAt: Date): Promise<BatchOutcome>;
  /** The day's cells: the running total in its last slot. */
  read(tenant: string, day: string): Promise<UsageCell[]>;
}

export function createDayLedger(store: ActorStore): DayLedger {
  const slots = store.collection<UsageSlot | BatchAbort>(USAGE_SLOTS);
  const heads = store.collection<LedgerHead>(USAGE_HEADS);
  // The last slot this process saw per tenant and day: where its next commit starts, and the total it adds to.
  const lastSeen = new Map<string, UsageSlot>();
  const remember = (key: string, slot: UsageSlot) => {
    if ((lastSeen.get(key)?.n ?? 0) >= slot.n) return;
    if (lastSeen.size >= MAX_REMEMBERED_DAYS) lastSeen.clear();
    lastSeen.set(key, slot);
  };

  const getSlot = async (tenant: string, day: string, n: number) => {
    const slot = await slots.get(tenant, keys.slot(day, n));
    return slot && "cells" in slot ? slot : null;
  };

  /** The last slot of the day (null for a day without any), probing forward from `from`. */
  async function lastSlot(tenant: string, day: string, from: UsageSlot | null): Promise<UsageSlot | null> {
    let last = from;
    for (;;) {
      const next = (last?.n ?? 0) + 1;
      const found = await slots.getMany(tenant, Array.from({ length: PROBE }, (_, i) => keys.slot(day, next + i)));
      for (const slot of found) {
        if (!slot || !("cells" in slot)) return last;
        last = slot;
      }
    }
  }

  async function commit(tenant: string, day: string, batch: string, cells: UsageCell[], expiresAt: Date): Promise<Commit> {
    const seenKey = `${tenant}/${day}`;
    let previous = lastSeen.get(seenKey) ?? (await lastSlot(tenant, day, await headSlot(tenant, day)));
    for (;;) {
      const n = (previous?.n ?? 0) + 1;
      const slot: UsageSlot = { batch, day, n, added: cells, cells: sumCells(previous?.cells ?? [], cells), expiresAt };
      try {
        await slots.insert(tenant, keys.slot(day, n), slot);
        remember(seenKey, slot);
        return { outcome: "committed", slot };
      } catch (error) {
        if (!hasCode(error, "CONFLICT")) throw error;
      }
      const taken = await getSlot(tenant, day, n);
      if (!taken) {
        // Slot n is free, so the insert hit the unique `batch`: aborted, or committed by an earlier attempt of ours.
        return { outcome: (await slots.get(tenant, keys.abort(batch))) ? "aborted" : "committed" };
      }
      if (taken.batch === batch) return { outcome: "committed", slot: taken }; // an earlier attempt of ours landed
      remember(seenKey, taken);
      previous = await lastSlot(tenant, day, taken);
    }
  }

  async function headSlot(tenant: string, day: string): Promise<UsageSlot | null> {
    const head = await heads.get(tenant, keys.head(day));
    return head ? getSlot(tenant, day, head.slot) : null;
  }

  async function decide(tenant: string, batch: string, expiresAt: Date): Promise<BatchOutcome> {
    try {
      await slots.insert(tenant, keys.abort(batch), { batch, aborted: true, expiresAt });
      return "aborted";
    } catch (error) {
      if (!hasCode(error, "CONFLICT")) throw error;
    }
    return (await slots.get(tenant, keys.abort(batch))) ? "aborted" : "committed";
  }

  async function read(tenant: string, day: string): Promise<UsageCell[]> {
    // Usually two round trips of point reads: the head, then its slot and the one after it (the
    // head is written after each commit, so that one is normally missing).
    const head = await heads.get(tenant, keys.head(day));
    let last: UsageSlot | null = null;
    let from = head?.slot ?? 1;
    for (;;) {
      const found = await slots.getMany(tenant, Array.from({ length: PROBE }, (_, i) => keys.slot(day, from + i)));
      const existing = found.filter((slot): slot is UsageSlot => slot !== null && "cells" in slot);
      const newest = existing.at(-1);
      if (newest && newest.n > (last?.n ?? 0)) last = newest;
      if (existing.length < PROBE) break;
      from += PROBE;
    }
    // A head pointing past what exists (its slots expired) or no slot at the head: nothing to add.
    return last?.cells ?? [];
  }

  async function writeHead(tenant: string, slot: UsageSlot): Promise<void> {
    await heads.put(tenant, keys.head(slot.day), { day: slot.day, slot: slot.n, expiresAt: slot.expiresAt });
  }

  return { commit, writeHead, decide, read };
}
