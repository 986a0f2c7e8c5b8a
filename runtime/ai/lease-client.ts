import { randomUUID } from "node:crypto";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { MeshError } from "../errors.ts";
import type { AcquireRequest, Lease, LeaseClient, LeaseClientOptions, LeaseTransport, RemoteLeases } from "./lease-types.ts";
import { LocalLeases } from "./local-leases.ts";

export type * from "./lease-types.ts";
export { callCostUsd } from "./lease-types.ts";

/** Talks to ai-capacity for a service: leases, settles, releases; optionally many calls per remote lease. */
export function createLeaseClient(transport: LeaseTransport, options: LeaseClientOptions): LeaseClient {
  const bookkeepingMs = options.bookkeepingTimeoutMs ?? 5000;
  let closed = false;

  const remote: RemoteLeases = {
    lease(request, tokens, requests) {
      return transport.request(aiCapacityContract.requests.lease, { service: options.service, model: request.model, estimatedTokens: tokens, requests }, {
        tenant: request.tenant,
        ...(request.deadline === undefined ? {} : { deadline: request.deadline }),
        ...(request.traceparent === undefined ? {} : { traceparent: request.traceparent }),
        ...(request.maxAttempts === undefined ? {} : { maxAttempts: request.maxAttempts }),
        signal: request.signal,
        // One key for every retry of this acquire: a reply lost on the way cannot grant twice.
        idempotencyKey: `lease-${randomUUID()}`,
      });
    },
    async settle(tenant, leaseId, usage) {
      const settled = await transport.request(aiCapacityContract.requests.settle, { leaseId, ...usage }, {
        tenant, timeoutMs: bookkeepingMs, idempotencyKey: `settle-${leaseId}`,
      });
      return { costUsd: settled.costUsd };
    },
    async release(tenant, leaseId) {
      await transport.request(aiCapacityContract.requests.release, { leaseId }, { tenant, timeoutMs: bookkeepingMs, idempotencyKey: `release-${leaseId}` });
    },
  };
  const local = (options.localLeaseTokens ?? 0) > 0
    ? new LocalLeases(remote, {
      tokens: options.localLeaseTokens!, requests: options.localLeaseRequests ?? 10, usableMs: options.localLeaseMs ?? 10_000, log: options.log,
    })
    : undefined;

  async function remoteLease(request: AcquireRequest): Promise<Lease> {
    const grant = await remote.lease(request, request.estimatedTokens, 1);
    let finished = false;
    const once = () => {
      if (finished) throw new MeshError("CONFLICT", "this lease was already settled or released");
      finished = true;
    };
    return {
      leaseId: grant.leaseId, grantedTokens: grant.grantedTokens, expiresAt: grant.expiresAt, price: grant.price, local: false,
      settle: async (usage) => {
        once();
        return remote.settle(request.tenant, grant.leaseId, { ...usage, requests: 1 });
      },
      release: async () => {
        once();
        await remote.release(request.tenant, grant.leaseId);
      },
    };
  }

  return {
    async acquire(request) {
      if (closed) throw new MeshError("UNAVAILABLE", "the lease client is closed");
      // Checked here too: a local lease would otherwise carve a nonsense amount without asking anyone.
      if (!Number.isSafeInteger(request.estimatedTokens) || request.estimatedTokens <= 0) {
        throw new MeshError("BAD_REQUEST", "estimatedTokens must be a positive integer");
      }
      return (await local?.acquire(request)) ?? remoteLease(request);
    },
    flush: async () => local?.flush(),
    async close() {
      closed = true;
      await local?.flush();
    },
  };
}
