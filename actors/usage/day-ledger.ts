/**
 * A tenant's day ledger: numbered slots, one per committed batch, each holding the day's running
 * total up to and including its batch. Only unique inserts decide anything (the one write
 * FerretDB makes atomic); the head is a hint that readers probe past. A day's total is the last
 * slot's: a couple of round trips of point reads, whatever the history.
 */
import { hasCode, type ActorStore } from "../../runtime/index.ts";
import { addToDay, type UsageCell } from "./usage-cells.ts";
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

  /**
   * The day's last slot, probing forward from slot `from` PROBE slots per round trip; `known` is
   * a slot already read below `from` (null when none). Slots have no gaps, so the first missing
   * one ends the search.
   */
  async function lastSlotFrom(tenant: string, day: string, from: number, known: UsageSlot | null): Promise<UsageSlot | null> {
    let last = known;
    for (let next = from; ; next += PROBE) {
      const found = await slots.getMany(tenant, Array.from({ length: PROBE }, (_, i) => keys.slot(day, next + i)));
      for (const slot of found) {
        if (!slot || !("cells" in slot)) return last;
        last = slot;
      }
    }
  }

  /** From the head's hint (written after each commit, so usually the last slot or just before it). */
  async function lastSlot(tenant: string, day: string): Promise<UsageSlot | null> {
    const head = await heads.get(tenant, keys.head(day));
    return lastSlotFrom(tenant, day, head?.slot ?? 1, null);
  }

  async function commit(tenant: string, day: string, batch: string, cells: UsageCell[], expiresAt: Date): Promise<Commit> {
    const seenKey = `${tenant}/${day}`;
    let previous = lastSeen.get(seenKey) ?? (await lastSlot(tenant, day));
    for (;;) {
      const n = (previous?.n ?? 0) + 1;
      const slot: UsageSlot = { batch, day, n, added: cells, cells: addToDay(previous?.cells ?? [], cells), expiresAt };
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
      previous = await lastSlotFrom(tenant, day, n + 1, taken);
    }
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
    // Usually two round trips of point reads: the head, then its slot and the next (missing).
    return (await lastSlot(tenant, day))?.cells ?? [];
  }

  async function writeHead(tenant: string, slot: UsageSlot): Promise<void> {
    await heads.put(tenant, keys.head(slot.day), { day: slot.day, slot: slot.n, expiresAt: slot.expiresAt });
  }

  return { commit, writeHead, decide, read };
}
