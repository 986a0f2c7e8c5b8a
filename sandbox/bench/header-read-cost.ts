/**
 * CPU per request of reading the mesh client's request headers on the replica, both ways the
 * runtime can (runtime/request/request-header-text.ts), in turns in this one process:
 * nats-core's decode (what the `msg.headers` getter does) followed by `readRawMeta`, against one
 * pass over the header block's text (bytes to text included).
 *   npx tsx sandbox/bench/header-read-cost.ts [--iterations 200000] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { MsgHdrsImpl } from "@nats-io/nats-core/internal";
import { HEADERS } from "../../protocol/headers.ts";
import { readRawMeta, newTraceparent, type RawMeta } from "../../runtime/request/request-headers.ts";
import { readRawMetaFromText } from "../../runtime/request/request-header-text.ts";
import { formatGrid } from "./report.ts";
import { percentile } from "./stats.ts";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "200000" }, rounds: { type: "string", default: "5" } } });
const iterations = Number(values.iterations);

// The four headers `MeshClient` sends, with values of the bench's sizes.
const sent = new MsgHdrsImpl();
sent.set(HEADERS.deadline, String(Date.now() + 5000));
sent.set(HEADERS.tenant, "bench");
sent.set(HEADERS.traceparent, newTraceparent());
sent.set(HEADERS.service, "bench-caller");
const block = Buffer.from(sent.encode());

const ways: Record<string, () => RawMeta> = {
  "nats-core decode + readRawMeta": () => readRawMeta(MsgHdrsImpl.decode(block)),
  "block text + readRawMetaFromText": () => readRawMetaFromText(block.toString("utf8", 0, block.length)),
};

let sink = 0;
function microsPerRead(read: () => RawMeta): number {
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) sink += read().tenant.length;
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / iterations;
}

for (const read of Object.values(ways)) microsPerRead(read); // warm-up
const figures = new Map(Object.keys(ways).map((name) => [name, [] as number[]]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, read] of Object.entries(ways)) figures.get(name)!.push(microsPerRead(read));
}
if (sink === 0) throw new Error("nothing was read");
process.stdout.write(`${formatGrid(["way", "µs per request (median of rounds)", "rounds"], [...figures].map(([name, list]) => [name, percentile([...list].sort((a, b) => a - b), 0.5).toFixed(2), list.map((m) => m.toFixed(2)).join(" ")]))}\n`);
