import type { LeaseSettlement } from "../../protocol/ai-capacity.ts";
import { llmContract } from "../../protocol/llm.ts";
import { consumeEvent, MeshError, ownerKey, type WorkContext } from "../../runtime/index.ts";
import { retentionOf, type AiCapacityConfig } from "./config.ts";
import { CAPACITY_KEY, ledgersOf } from "./ledgers.ts";
import { settle } from "./lease-ops.ts";

/**
 * Settles leases from the llm actor's durable settlement events. Only llm may publish them (its
 * NATS permissions), so they settle as a caller inside the mesh account: leases llm took. The settle operation itself
 * makes a repeat harmless (a lease settles once; a repeat answers the first settlement), so
 * the runtime's dedupe record would be a second write for nothing. An unknown lease
 * (`NOT_FOUND`), a released one (`CONFLICT`) or an event naming another tenant (`BAD_REQUEST`)
 * is terminal and dead-lettered; a schema failure (negative tokens) too, without retries.
 */
export function createSettlementConsumer(config: AiCapacityConfig) {
  const retention = retentionOf(config);
  return consumeEvent({
    event: llmContract.events.settlement,
    dedupe: false,
    // Dead-lettering a settlement leaves its lease charged conservatively: keep trying for minutes first.
    maxDeliver: 20,
    // A burst of completions settles in a burst: the tenant's record takes it in group commits.
    batchSize: 64,
    maxAckPending: 512,
    async handler(event: LeaseSettlement, context: WorkContext): Promise<void> {
      if (event.tenant !== context.tenant) throw new MeshError("BAD_REQUEST", "settlement tenant differs from its Mw-Tenant header");
      const ledgers = ledgersOf(context.store);
      const usage = { promptTokens: event.promptTokens, completionTokens: event.completionTokens, requests: event.requests };
      const outcome = await ledgers.capacity.update(context.tenant, CAPACITY_KEY, settle(event.leaseId, usage, retention, ownerKey(context.caller)));
      if (!outcome.alreadySettled && outcome.settlement.from === "open") ledgers.expiryCleanup.forget(event.leaseId, context.log);
      if (outcome.settlement.from === "expired" && !outcome.alreadySettled) {
        context.log.info({ leaseId: event.leaseId }, "late settlement corrected an expired lease's conservative charge");
      }
    },
  });
}
