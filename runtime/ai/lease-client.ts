import { randomUUID } from "node:crypto";
import { aiCapacityContract, type LeaseGrant } from "../../protocol/ai-capacity.ts";
import { MeshError } from "../errors.ts";
import { CapacityShares } from "./capacity-shares.ts";
import { RefusalMemory } from "./refusal-memory.ts";
import { callCostUsd, type AcquireRequest, type Lease, type LeaseClient, type LeaseClientOptions, type LeaseTransport, type RemoteLeases } from "./lease-types.ts";

export type * from "./lease-types.ts";
export { callCostUsd } from "./lease-types.ts";

const DEFAULT_SHARE_REQUESTS = 200;
const DEFAULT_SHARE_USABLE_MS = 5000;
const DEFAULT_SHARE_IDLE_MS = 1000;
const DEFAULT_REFUSAL_HOLD_MS = 500;

/**
 * The one client of ai-capacity's leases for a service: per-call leases, or capacity shares
 * (calls admitted in memory from a larger lease) when `shares` is given; settlements go to
 * `settlements` (e.g. a durable event) or to ai-capacity's settle and release requests.
 */
export function createLeaseClient(transport: LeaseTransport, options: LeaseClientOptions): LeaseClient {
  const bookkeepingMs = options.bookkeepingTimeoutMs ?? 5000;
  let closed = false;
  const remote: RemoteLeases = {
    lease(request, amount) {
      return transport.request(aiCapacityContract.requests.lease, {
        service: request.service ?? options.service, model: request.model, estimatedTokens: amount.tokens, requests: amount.requests,
        ...(amount.callTimeoutMs === undefined ? {} : { callTimeoutMs: amount.callTimeoutMs }),
      }, {
        tenant: request.tenant,
        deadline: request.deadline ?? Date.now() + bookkeepingMs,
        ...(request.traceparent === undefined ? {} : { traceparent: request.traceparent }),
        ...(request.maxAttempts === undefined ? {} : { maxAttempts: request.maxAttempts }),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        // One key for every retry of this acquire: a reply lost on the way cannot grant twice.
        idempotencyKey: `lease-${randomUUID()}`,
      });
    },
    async settle(tenant, leaseId, usage) {
      if (options.settlements) {
        await options.settlements(tenant, leaseId, usage);
        return {};
      }
      await transport.request(aiCapacityContract.requests.settle, { leaseId, ...usage }, {
        tenant, timeoutMs: bookkeepingMs, idempotencyKey: `settle-${leaseId}`,
      });
      return {};
    },
    async release(tenant, leaseId) {
      if (options.settlements) return options.settlements(tenant, leaseId, { promptTokens: 0, completionTokens: 0, requests: 0 });
      await transport.request(aiCapacityContract.requests.release, { leaseId }, { tenant, timeoutMs: bookkeepingMs, idempotencyKey: `release-${leaseId}` });
    },
  };
  const shares = options.shares
    ? new CapacityShares(remote, {
      maxTokens: options.shares.maxTokens,
      maxRequests: Math.min(1000, options.shares.maxRequests ?? DEFAULT_SHARE_REQUESTS),
      usableMs: options.shares.usableMs ?? DEFAULT_SHARE_USABLE_MS,
      idleMs: options.shares.idleMs ?? DEFAULT_SHARE_IDLE_MS,
      callTimeoutMs: options.shares.callTimeoutMs,
      log: options.log,
    })
    : undefined;

  const refusals = new RefusalMemory(options.refusalHoldMs ?? DEFAULT_REFUSAL_HOLD_MS);

  async function leaseOfItsOwn(request: AcquireRequest): Promise<Lease> {
    refusals.check(request);
    let grant: LeaseGrant;
    try {
      grant = await remote.lease(request, {
        tokens: request.estimatedTokens, requests: 1, ...(request.callTimeoutMs === undefined ? {} : { callTimeoutMs: request.callTimeoutMs }),
      });
    } catch (error) {
      refusals.observe(request, error);
      throw error;
    }
    refusals.observe(request, undefined);
    let finished = false;
    const once = () => {
      if (finished) throw new MeshError("CONFLICT", "this lease was already settled or released");
      finished = true;
    };
    return {
      leaseId: grant.leaseId, grantedTokens: grant.grantedTokens, expiresAt: grant.expiresAt, price: grant.price, local: false,
      settle: async (usage) => {
        once();
        await remote.settle(request.tenant, grant.leaseId, { ...usage, requests: 1 });
        return { costUsd: callCostUsd(grant.price, usage) };
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
      // Checked here too: a share would otherwise admit a nonsense amount without asking anyone.
      if (!Number.isSafeInteger(request.estimatedTokens) || request.estimatedTokens <= 0) {
        throw new MeshError("BAD_REQUEST", "estimatedTokens must be a positive integer");
      }
      return (await shares?.acquire(request)) ?? leaseOfItsOwn(request);
    },
    flush: async () => shares?.flush(),
    retireShares: (model) => shares?.retireModel(model),
    async close() {
      closed = true;
      await shares?.close();
    },
  };
}
