import type { TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError, type ActorStore, type TenantCollection } from "../../runtime/index.ts";

/**
 * How policies are laid out, so that every read and write of a request is a point operation by
 * `_id` (FerretDB serves no other filter from an index; see README: Data):
 *
 * - `<tenant>/v/<version, 10 digits>`: one record per version, written once by a unique insert;
 * - `<tenant>/head`: `{ latest, policy }` (a copy of that version), a hint written after the
 *   version it names, so it may lag (a put in flight) or even regress (two puts' head writes
 *   crossing on FerretDB). A get reads it and probes the next version: two point reads.
 */
export const POLICIES = "policy_records";
/** Versions kept; older ones are deleted by id, one per put. */
export const HISTORY_VERSIONS = 10;
const HEAD_KEY = "head";
// A head so stale that its version was trimmed: look ahead in strides no longer than the kept
// history, so one probe must land on a kept version. Bounded (1000 versions past the head).
const RECOVERY_PROBES = 100;

export type StoredPolicy = TenantPolicy & { tenant?: string; _id?: string };
interface HeadRecord { latest: number; policy: TenantPolicy; tenant?: string; _id?: string }
/** The newest version, and the version the head named when it was found (0: no head). */
export interface Latest { readonly policy: StoredPolicy; readonly headVersion: number }

export const versionKey = (version: number): string => `v/${String(version).padStart(10, "0")}`;

export interface PolicyRecords {
  /**
   * The newest stored version, found by point reads only; null for an unknown tenant.
   * `checkHead: false` (reads) trusts the head's copy when the next version is absent: two reads.
   * `checkHead: true` (puts) also reads the head's own version, and if it was trimmed (the head
   * fell more than 10 versions behind) probes ahead for a kept one: a put never builds on it.
   */
  latest(tenant: string, options: { checkHead: boolean }): Promise<Latest | null>;
  /** Inserts the version; CONFLICT if that version exists (exactly one concurrent writer wins). */
  insertVersion(tenant: string, policy: TenantPolicy): Promise<void>;
  /** Deletes a version again (its event could not be published). */
  withdrawVersion(tenant: string, version: number): Promise<void>;
  /**
   * Moves the head hint forward to this version and trims history. `headVersion` is what
   * `latest` saw: the head is not read again, so two crossing puts can leave the older version
   * in it; readers probe past it, and the next put moves it on.
   */
  advance(tenant: string, policy: TenantPolicy, headVersion: number): Promise<void>;
}

export function policyRecords(store: ActorStore): PolicyRecords {
  const versions: TenantCollection<StoredPolicy> = store.collection<StoredPolicy>(POLICIES);
  const heads: TenantCollection<HeadRecord> = store.collection<HeadRecord>(POLICIES);
  const versionAt = (tenant: string, version: number) => versions.get(tenant, versionKey(version));

  /** From a version known to exist, the newest: probe the next one until it is absent. */
  const walkForward = async (tenant: string, from: StoredPolicy): Promise<StoredPolicy> => {
    let newest = from;
    for (let next = await versionAt(tenant, newest.version + 1); next !== null; next = await versionAt(tenant, newest.version + 1)) newest = next;
    return newest;
  };

  /** The head's version was trimmed: some version in (head, head + 1000] is kept; find it. */
  const recoverFrom = async (tenant: string, head: number): Promise<StoredPolicy> => {
    for (let probe = 1; probe <= RECOVERY_PROBES; probe++) {
      const found = await versionAt(tenant, head + probe * HISTORY_VERSIONS);
      if (found !== null) return walkForward(tenant, found);
    }
    throw new MeshError("INTERNAL", `tenant ${tenant}: head names version ${head}, and no version is kept after it`);
  };

  return {
    async latest(tenant, { checkHead }) {
      const found = (policy: StoredPolicy, headVersion: number): Latest => ({ policy, headVersion });
      const head = await heads.get(tenant, HEAD_KEY);
      if (head === null) {
        const first = await versionAt(tenant, 1);
        return first === null ? null : found(await walkForward(tenant, first), 0);
      }
      if (!checkHead) {
        const afterHead = await versionAt(tenant, head.latest + 1);
        return found(afterHead ? await walkForward(tenant, afterHead) : head.policy, head.latest);
      }
      const [atHead, afterHead] = await versions.getMany(tenant, [versionKey(head.latest), versionKey(head.latest + 1)]);
      if (afterHead) return found(await walkForward(tenant, afterHead), head.latest);
      if (atHead) return found(atHead, head.latest);
      return found(await recoverFrom(tenant, head.latest), head.latest);
    },
    async insertVersion(tenant, policy) {
      await versions.insert(tenant, versionKey(policy.version), { ...policy });
    },
    async withdrawVersion(tenant, version) {
      await versions.remove(tenant, versionKey(version));
    },
    async advance(tenant, policy, headVersion) {
      const { version } = policy;
      if (headVersion < version) await heads.put(tenant, HEAD_KEY, { latest: version, policy });
      if (version > HISTORY_VERSIONS) await versions.remove(tenant, versionKey(version - HISTORY_VERSIONS));
    },
  };
}
