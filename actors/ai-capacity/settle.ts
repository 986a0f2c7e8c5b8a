import type { z } from "zod";
import type { aiCapacityContract, ReleaseResult, SettleResult } from "../../protocol/ai-capacity.ts";
import { ownerKey, type WorkContext } from "../../runtime/index.ts";
import { retentionOf, type AiCapacityConfig } from "./config.ts";
import { CAPACITY_KEY, ledgersOf } from "./ledgers.ts";
import { release, settle } from "./lease-ops.ts";
import { usdFromNano } from "./prices.ts";

type SettleInput = z.output<typeof aiCapacityContract.requests.settle.input>;
type ReleaseInput = z.output<typeof aiCapacityContract.requests.release.input>;

/** Settle and release: one operation each on the tenant's record (see lease-ops.ts for the rules). */
export function createFinishHandlers(config: AiCapacityConfig) {
  const retention = retentionOf(config);

  // Left behind, an entry costs a sweeper one look that changes nothing: removed in batches, never awaited.
  const forgetExpiry = (context: WorkContext, leaseId: string) => ledgersOf(context.store).expiryCleanup.forget(leaseId, context.log);

  return {
    async settle(input: SettleInput, context: WorkContext): Promise<SettleResult> {
      const usage = { promptTokens: input.promptTokens, completionTokens: input.completionTokens, requests: input.requests };
      const outcome = await ledgersOf(context.store).capacity.update(context.tenant, CAPACITY_KEY, settle(input.leaseId, usage, retention, ownerKey(context.caller)));
      if (!outcome.alreadySettled && outcome.settlement.from === "open") forgetExpiry(context, input.leaseId);
      return {
        leaseId: input.leaseId,
        costUsd: usdFromNano(outcome.settlement.costNanoUsd),
        returnedTokens: outcome.settlement.returnedTokens,
        alreadySettled: outcome.alreadySettled,
      };
    },

    async release(input: ReleaseInput, context: WorkContext): Promise<ReleaseResult> {
      const released = await ledgersOf(context.store).capacity.update(context.tenant, CAPACITY_KEY, release(input.leaseId, retention, ownerKey(context.caller)));
      if (released) forgetExpiry(context, input.leaseId);
      return { leaseId: input.leaseId, released };
    },
  };
}
