import type { z } from "zod";
import type { aiCapacityContract, ReleaseResult, SettleResult } from "../../protocol/ai-capacity.ts";
import type { WorkContext } from "../../runtime/index.ts";
import { retentionOf, type AiCapacityConfig } from "./config.ts";
import { CAPACITY_KEY, ledgersOf } from "./ledgers.ts";
import { release, settle } from "./lease-ops.ts";
import { usdFromNano } from "./prices.ts";

type SettleInput = z.output<typeof aiCapacityContract.requests.settle.input>;
type ReleaseInput = z.output<typeof aiCapacityContract.requests.release.input>;

/** Settle and release: one operation each on the tenant's record (see lease-ops.ts for the rules). */
export function createFinishHandlers(config: AiCapacityConfig) {
  const retention = retentionOf(config);

  async function forgetExpiry(context: WorkContext, leaseId: string): Promise<void> {
    // Left behind, the entry costs a sweeper one look that changes nothing; not worth failing the reply.
    await ledgersOf(context.store).leaseExpiry.deleteOne({ _id: leaseId }).catch((error: unknown) => {
      context.log.warn({ err: error, leaseId }, "could not remove a finished lease from the expiry index");
    });
  }

  return {
    async settle(input: SettleInput, context: WorkContext): Promise<SettleResult> {
      const usage = { promptTokens: input.promptTokens, completionTokens: input.completionTokens, requests: input.requests };
      const outcome = await ledgersOf(context.store).capacity.update(context.tenant, CAPACITY_KEY, settle(input.leaseId, usage, retention));
      if (!outcome.alreadySettled && outcome.settlement.from === "open") await forgetExpiry(context, input.leaseId);
      return {
        leaseId: input.leaseId,
        costUsd: usdFromNano(outcome.settlement.costNanoUsd),
        returnedTokens: outcome.settlement.returnedTokens,
        alreadySettled: outcome.alreadySettled,
      };
    },

    async release(input: ReleaseInput, context: WorkContext): Promise<ReleaseResult> {
      const released = await ledgersOf(context.store).capacity.update(context.tenant, CAPACITY_KEY, release(input.leaseId, retention));
      if (released) await forgetExpiry(context, input.leaseId);
      return { leaseId: input.leaseId, released };
    },
  };
}
