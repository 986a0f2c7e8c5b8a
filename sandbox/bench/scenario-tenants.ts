/**
 * (h/i) tenant growth (issue 16): does a request cost the same whatever the number of tenants?
 * Each figure uses databases of its own and one `tenants` replica, called through the mesh
 * client by 16 concurrent callers (one attempt each: a refused call is an error, not retried).
 *
 * (h) `tenants.get` of random tenants with 10,000 tenants stored; baseline: with 10 stored.
 *     Rounds alternate between the two databases (restarting the replica) so drift on this
 *     shared machine lands on both. Target: ratio >= 0.8x.
 * (i) putting 10,000 new tenants (`tenants.put`, expectedVersion 0) into an empty database;
 *     baseline: putting 1,000 into an empty database. Every tenant is put through the mesh (the
 *     10,000 also seed (h)). The 10,000 go in `putRounds` chunks, each after a baseline run of
 *     1,000 into a fresh database, so drift on this shared machine lands on both; the baseline
 *     time is the mean of its runs. Target: total time <= 10x, that is throughput ratio >= 1.0x.
 */
import { tenantsContract } from "../../protocol/tenants.ts";
import { actorClient, connectNats, MeshClient } from "../../runtime/index.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { poolRounds, runClosedLoop, runFixedCount, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import type { Comparison } from "./report.ts";
import { UNLIMITED_POLICY } from "./scenario-leases.ts";
import { ratio } from "./stats.ts";

export interface TenantGrowthLoad {
  readonly get: LoadOptions;
  readonly getRounds: number;
  /** Callers putting tenants at once. */
  readonly putConcurrency: number;
  readonly few: number;
  readonly many: number;
  readonly putBaseline: number;
  readonly putRounds: number;
}

type TenantsClient = ReturnType<typeof actorClient<typeof tenantsContract>>;

/** Tenant ids differ per database: the event id `<tenant>:1` must not be de-duplicated across them. */
const tenantId = (set: string, index: number) => `${set}-${index}`;

async function withReplica<T>(env: BenchEnvironment, databaseSuffix: string, work: () => Promise<T>): Promise<T> {
  const replica = await env.startActor(tenantsActor, `bench-tenants-${databaseSuffix}`, databaseSuffix);
  try {
    return await work();
  } finally {
    await replica.stop();
  }
}

/** Puts tenants `first` .. `first + count - 1` of the set into its database. */
function putTenants(env: BenchEnvironment, tenants: TenantsClient, set: string, range: { first: number; count: number }, concurrency: number): Promise<LoadResult> {
  return withReplica(env, set, () => runFixedCount((index) =>
    tenants.put({ policy: UNLIMITED_POLICY, expectedVersion: 0 }, { tenant: tenantId(set, range.first + index) }), range.count, concurrency));
}

function getRandomTenants(env: BenchEnvironment, tenants: TenantsClient, set: string, stored: number, load: LoadOptions): Promise<LoadResult> {
  return withReplica(env, set, () => runClosedLoop(() =>
    tenants.get({}, { tenant: tenantId(set, Math.floor(Math.random() * stored)) }), load));
}

export async function benchTenantGrowth(env: BenchEnvironment, load: TenantGrowthLoad, progress: (text: string) => void): Promise<Comparison[]> {
  const nc = await connectNats({ ...env.natsOptions(), name: "bench-tenants" });
  const client = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 10_000 });
  const tenants = actorClient(client, tenantsContract);
  const few = `g${load.few}`;
  const many = `p${load.many}`;
  try {
    const seededFew = await putTenants(env, tenants, few, { first: 0, count: load.few }, load.putConcurrency);
    const baselineRuns: LoadResult[] = [];
    const manyChunks: LoadResult[] = [];
    const chunk = Math.ceil(load.many / load.putRounds);
    for (let round = 0; round < load.putRounds; round++) {
      progress(`put ${load.putBaseline} tenants into an empty database, then tenants ${round * chunk}.. of ${load.many}...`);
      baselineRuns.push(await putTenants(env, tenants, `p${load.putBaseline}r${round}`, { first: 0, count: load.putBaseline }, load.putConcurrency));
      const first = round * chunk;
      manyChunks.push(await putTenants(env, tenants, many, { first, count: Math.min(chunk, load.many - first) }, load.putConcurrency));
    }
    const putBaseline = poolRounds(baselineRuns);
    const putMany = poolRounds(manyChunks);
    for (const [what, result] of [["seed", seededFew], ["put baseline", putBaseline], ["put", putMany]] as const) {
      if (result.errors > 0) throw new Error(`(i) ${what}: ${result.errors} puts failed, first: ${String(result.firstError)}`);
    }
    progress(`tenants.get with ${load.few} and ${load.many} stored, ${load.getRounds} rounds each...`);
    const fewRounds: LoadResult[] = [];
    const manyRounds: LoadResult[] = [];
    for (let round = 0; round < load.getRounds; round++) {
      fewRounds.push(await getRandomTenants(env, tenants, few, load.few, load.get));
      manyRounds.push(await getRandomTenants(env, tenants, many, load.many, load.get));
    }
    const getsFew = poolRounds(fewRounds);
    const getsMany = poolRounds(manyRounds);
    const baselineSeconds = putBaseline.windowMs / 1000 / load.putRounds; // mean of the runs
    const manySeconds = putMany.windowMs / 1000; // the chunks together
    const timeRatio = ratio(manySeconds, baselineSeconds);
    const count = (n: number) => n.toLocaleString("en-US");
    return [
      {
        scenario: "(h)",
        baseline: { label: `tenants.get, ${count(load.few)} tenants stored`, unit: "req/s", summary: getsFew.summary, errors: getsFew.errors },
        subject: { label: `tenants.get, ${count(load.many)} tenants stored`, unit: "req/s", summary: getsMany.summary, errors: getsMany.errors },
      },
      {
        scenario: "(i)",
        baseline: { label: `tenants.put of ${count(load.putBaseline)} new tenants`, unit: "puts/s", summary: putBaseline.summary, errors: putBaseline.errors },
        subject: { label: `tenants.put of ${count(load.many)} new tenants`, unit: "puts/s", summary: putMany.summary, errors: putMany.errors },
        latencyMeaning: `one put; ${count(load.putBaseline)} took ${baselineSeconds.toFixed(1)} s (mean of ${load.putRounds} runs), ${count(load.many)} took ${manySeconds.toFixed(1)} s: ${timeRatio.toFixed(2)}x the time for ${load.many / load.putBaseline}x the tenants`,
        extraEntries: [{
          name: `time to put ${count(load.many)} tenants`, unit: "s", value: Math.round(manySeconds * 100) / 100,
          baseline: `time to put ${count(load.putBaseline)} tenants`, baseline_value: Math.round(baselineSeconds * 100) / 100,
          ratio: Number.isFinite(timeRatio) ? Math.round(timeRatio * 1000) / 1000 : null,
        }],
      },
    ];
  } finally {
    client.close();
    await nc.close();
  }
}
