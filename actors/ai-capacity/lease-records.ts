import type { ModelPrice } from "../../protocol/ai-capacity.ts";
import type { BucketCapacity } from "./bucket-math.ts";

export type LeaseState = "open" | "settled" | "released" | "expired";

/** A bucket a lease took from, with the capacity it had then (returns are capped by it). */
export interface LeaseBucket extends BucketCapacity {
  readonly key: string;
}

export interface Settlement {
  readonly from: "open" | "expired";
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly requests: number;
  readonly costNanoUsd: number;
  readonly returnedTokens: number;
  readonly at: number;
}

/** One lease in the tenant-owned `leases` collection. */
export interface LeaseDoc {
  _id: string;
  tenant?: string;
  service: string;
  model: string;
  /** The budget period the reservation was made in; settle charges the same one. */
  period: string;
  grantedTokens: number;
  grantedRequests: number;
  reservedNanoUsd: number;
  /** The price at lease time; settle applies it even if the table changed since. */
  price: ModelPrice;
  buckets: LeaseBucket[];
  state: LeaseState;
  createdAt: number;
  /** Epoch ms after which an open lease is expired by the sweeper. */
  leaseExpiresAt: number;
  /** When the record itself is deleted (retention), a Date as the store requires. */
  expiresAt: Date;
  settlement?: Settlement;
}

/** An open lease's entry in the global `lease_expiry` index; removed once the lease is finished. */
export interface LeaseExpiryDoc {
  _id: string;
  tenant: string;
  leaseExpiresAt: number;
}
