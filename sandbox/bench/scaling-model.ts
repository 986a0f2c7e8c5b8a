/**
 * The queueing model behind scenario (s) (sandbox/bench/README.md): closed-loop callers, each
 * sending its next request `transitMs` after the last reply (the time a request spends outside
 * the replica: caller, NATS both ways, wake-ups); replicas with `slots` handlers of `serviceMs`
 * each and a queue as long again, past which a request is refused OVERLOADED and its caller
 * waits 25-50 ms (retryAfterMs 50, half jitter) before trying again. Routing is NATS's: a
 * uniform draw over the group's subscriptions, one per replica ("random"), plus one per free
 * slot on replicas that have queued ("free-slot", runtime/request/free-slot-subscriptions.ts).
 * No CPU is modelled: it shows what the load and the routing allow on an ideal machine.
 *   npx tsx sandbox/bench/scaling-model.ts
 */
import { formatGrid } from "./report.ts";
import { seededRandom } from "../chaos/chaos-schedule.ts";

export interface ModelRun {
  readonly replicas: number;
  readonly callersPerReplica: number;
  readonly transitMs: number;
  readonly routing: "random" | "free-slot";
  readonly slots?: number;
  readonly serviceMs?: number;
  readonly simulatedMs?: number;
}

/** Throughput (req/s) and OVERLOADED refusals (per s) of one configuration. */
export function simulate(run: ModelRun): { throughput: number; refusals: number } {
  const slots = run.slots ?? 8;
  const serviceMs = run.serviceMs ?? 5.25;
  const horizon = run.simulatedMs ?? 60_000;
  const random = seededRandom(1); // seeded: the model prints the same figures every run
  // Events ordered by time: [time, kind, caller, replica]; kind 0 = a request arrives, 1 = one finishes.
  const events: Array<[number, 0 | 1, number, number]> = [];
  const push = (event: [number, 0 | 1, number, number]) => {
    let low = 0;
    let high = events.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (events[mid]![0] <= event[0]) low = mid + 1;
      else high = mid;
    }
    events.splice(low, 0, event);
  };
  const active = new Array<number>(run.replicas).fill(0);
  const queued: number[][] = Array.from({ length: run.replicas }, () => []);
  const freeSlotSubscriptions = new Array<number>(run.replicas).fill(0);
  let done = 0;
  let refusals = 0;
  for (let caller = 0; caller < run.replicas * run.callersPerReplica; caller++) push([random() * run.transitMs, 0, caller, -1]);
  for (let event = events.shift(); event && event[0] <= horizon; event = events.shift()) {
    const [now, kind, caller] = event;
    if (kind === 0) {
      let replica = Math.floor(random() * run.replicas);
      if (run.routing === "free-slot") {
        const weights = freeSlotSubscriptions.map((extra) => 1 + extra);
        let draw = random() * weights.reduce((sum, weight) => sum + weight, 0);
        replica = 0;
        while (draw >= weights[replica]!) draw -= weights[replica++]!;
        if (draw >= 1) freeSlotSubscriptions[replica]!--; // a single-message subscription took it
      }
      if (active[replica]! + queued[replica]!.length >= 2 * slots) {
        refusals++;
        push([now + 25 + random() * 25 + run.transitMs, 0, caller, -1]);
      } else if (active[replica]! < slots) {
        active[replica]!++;
        push([now + serviceMs, 1, caller, replica]);
      } else {
        queued[replica]!.push(caller);
      }
    } else {
      const replica = event[3];
      done++;
      push([now + run.transitMs, 0, caller, -1]);
      const next = queued[replica]!.shift();
      if (next !== undefined) {
        push([now + serviceMs, 1, next, replica]);
      } else {
        active[replica]!--;
        freeSlotSubscriptions[replica] = Math.max(freeSlotSubscriptions[replica]!, slots - active[replica]!);
      }
    }
  }
  return { throughput: (done / horizon) * 1000, refusals: (refusals / horizon) * 1000 };
}

function main(): void {
  const header = ["callers per replica", "transit at 1 / 4 replicas", "one replica req/s", "4 replicas, random", "4 replicas, free-slot"];
  const rows: string[][] = [];
  for (const callersPerReplica of [10, 16]) {
    for (const [oneMs, fourMs] of [[0, 0], [2, 2], [2, 3], [2, 4]] as const) {
      const one = simulate({ replicas: 1, callersPerReplica, transitMs: oneMs, routing: "random" }).throughput;
      const ratio = (routing: ModelRun["routing"]) => {
        const four = simulate({ replicas: 4, callersPerReplica, transitMs: fourMs, routing });
        return `${(four.throughput / (4 * one)).toFixed(3)} of linear, ${four.refusals.toFixed(0)} refusals/s`;
      };
      rows.push([String(callersPerReplica), `${oneMs} / ${fourMs} ms`, one.toFixed(0), ratio("random"), ratio("free-slot")]);
    }
  }
  process.stdout.write(`${formatGrid(header, rows)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
