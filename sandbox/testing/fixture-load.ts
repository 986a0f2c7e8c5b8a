/**
 * Steady request and event load through the fixture actors, for the failover tests: request loops
 * on `fixture.echo`, one event loop on `fixture.emit` (a failed emit is sent again with the same
 * value until it is stored; the value names the event, so a retry cannot store it twice), what
 * the `fixture-sink` applied, and the figures the tests print.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { fixtureContract, fixtureSinkContract } from "../../runtime/testing/fixture-actors.ts";

export interface Outcome { readonly kind: "request" | "event"; readonly start: number; readonly end: number; readonly code: string }

export interface Disruption {
  readonly what: string;
  readonly at: number;
  readonly requestsResumedS: number;
  readonly publishingResumedS: number;
  readonly consumptionResumedS: number;
}

/** Polls `read` until it is true (bounded): a server coming back announces nothing to wait on. */
export async function until(read: () => Promise<boolean> | boolean, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(read).catch(() => false))) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await sleep(50);
  }
}

function progress(text: string): void {
  if (process.env.FAILOVER_TEST_PROGRESS) process.stderr.write(`${new Date().toISOString()} ${text}\n`);
}

export function fixtureLoad(nc: NatsConnection, tenant: string) {
  const mesh = new MeshClient(nc, { service: "failover-test" });
  const fixture = actorClient(mesh, fixtureContract);
  const sink = actorClient(mesh, fixtureSinkContract);
  const outcomes: Outcome[] = [];
  const published = new Map<string, number>(); // value -> when the emit that stored it was sent
  let running = false;
  let loops: Promise<unknown>[] = [];
  const pace = (ms: number) => sleep(ms); // steady load: a failure that comes back at once must not spin a loop

  async function attempt(kind: Outcome["kind"], call: () => Promise<unknown>): Promise<Outcome> {
    const start = Date.now();
    const code = await call().then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : `untyped: ${String(error)}`));
    const outcome = { kind, start, end: Date.now(), code };
    outcomes.push(outcome);
    return outcome;
  }

  async function applied(): Promise<Record<string, number>> {
    return (await sink.applied({}, { tenant, timeoutMs: 3000, maxAttempts: 3 })).values;
  }

  return {
    outcomes, published, applied,
    start(): void {
      running = true;
      const requests = Array.from({ length: 3 }, async (_, loop) => {
        for (let n = 0; running; n++) {
          await attempt("request", () => fixture.echo({ text: `${loop}-${n}` }, { tenant, timeoutMs: 2000, maxAttempts: 1 }));
          await pace(20);
        }
      });
      const events = (async () => {
        for (let n = 0; running; n++) {
          const value = `event-${n}`;
          const emit = () => attempt("event", () => fixture.emit({ value }, { tenant, timeoutMs: 3000, maxAttempts: 1 }));
          let outcome = await emit();
          while (outcome.code !== "OK") {
            if (!running) return;
            await pace(50);
            outcome = await emit();
          }
          published.set(value, outcome.start);
          await pace(50);
        }
      })();
      loops = [...requests, events];
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
    /** Steady state again: five more events applied than now. */
    async settled(): Promise<void> {
      const now = Object.keys(await applied()).length;
      await until(async () => Object.keys(await applied()).length >= now + 5);
    },
    /**
     * Runs `kill`, then measures until a request and an emit sent after it succeed and that
     * event is applied; then runs `restart`.
     */
    async disrupt(what: string, kill: () => Promise<void>, restart: () => Promise<void>): Promise<Disruption> {
      const at = Date.now();
      await kill();
      progress(`killed ${what}`);
      const okAfter = (kind: Outcome["kind"]) => outcomes.filter((o) => o.kind === kind && o.start > at && o.code === "OK");
      await until(() => okAfter("request").length > 0);
      const requestsResumedAt = Math.min(...okAfter("request").map((o) => o.end));
      await until(() => [...published.values()].some((sent) => sent > at));
      const [firstAfter, sent] = [...published.entries()].find(([, when]) => when > at)!;
      const publishedAt = okAfter("event").find((o) => o.start === sent)!.end;
      await until(async () => (await applied())[firstAfter] === 1);
      const consumptionResumedAt = Date.now();
      progress(`consumption resumed after ${(consumptionResumedAt - at) / 1000} s`);
      await restart();
      return { what, at, requestsResumedS: (requestsResumedAt - at) / 1000, publishingResumedS: (publishedAt - at) / 1000, consumptionResumedS: (consumptionResumedAt - at) / 1000 };
    },
    close: () => mesh.close(),
  };
}

export type FixtureLoad = ReturnType<typeof fixtureLoad>;

/** Waits for every published event to be applied (bounded), then counts losses, doubles and failures. */
export async function disruptionFigures(load: FixtureLoad, disruptions: readonly Disruption[]) {
  const values = [...load.published.keys()];
  await until(async () => { const a = await load.applied(); return values.every((v) => a[v] !== undefined); }, 60_000).catch(() => undefined);
  const final = await load.applied();
  const lost = values.filter((v) => final[v] === undefined);
  const twice = Object.entries(final).filter(([, times]) => times !== 1);
  const failures = load.outcomes.filter((o) => o.code !== "OK");
  const inFlightAtKill = (o: Outcome) => disruptions.some((d) => o.start <= d.at && o.end >= d.at);
  const byCode = (list: Outcome[]) => {
    const counts = new Map<string, number>();
    for (const o of list) counts.set(`${o.kind} ${o.code}`, (counts.get(`${o.kind} ${o.code}`) ?? 0) + 1);
    return [...counts].map(([key, n]) => `${key}: ${n}`).join(", ") || "none";
  };
  return {
    lost, twice, untyped: failures.filter((o) => o.code.startsWith("untyped")),
    printable: {
      requests: load.outcomes.filter((o) => o.kind === "request").length,
      emits: load.outcomes.filter((o) => o.kind === "event").length,
      eventsPublished: values.length,
      failedInFlightAtKill: byCode(failures.filter(inFlightAtKill)),
      failedAfterKill: byCode(failures.filter((o) => !inFlightAtKill(o))),
      eventsLost: lost.length,
      eventsAppliedTwice: twice.length,
      disruptions: disruptions.map(({ at: _at, ...figures }) => figures),
    },
  };
}
