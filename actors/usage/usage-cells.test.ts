import assert from "node:assert/strict";
import { test } from "node:test";
import { reportRows } from "./report.ts";
import { addToDay, emptyCounters, OTHER_SERVICES, sumCells, totalCost, type UsageCell } from "./usage-cells.ts";

const cell = (service: string, model: string, requests: number, costNanoUsd = 0): UsageCell =>
  ({ service, model, ...emptyCounters(), requests, costNanoUsd });

test("sumCells adds cells of one service and model and keeps the others apart, sorted", () => {
  const cases: { name: string; lists: UsageCell[][]; expected: UsageCell[] }[] = [
    { name: "nothing", lists: [], expected: [] },
    { name: "empty lists", lists: [[], []], expected: [] },
    { name: "one cell", lists: [[cell("a", "m", 1, 5)]], expected: [cell("a", "m", 1, 5)] },
    {
      name: "same cell across lists",
      lists: [[cell("a", "m", 1, 5)], [cell("a", "m", 2, 7)], [cell("a", "m", 3)]],
      expected: [cell("a", "m", 6, 12)],
    },
    {
      name: "names with dots and separators stay distinct",
      lists: [[cell("a.b", "gpt-4.1", 1), cell("a", "b.gpt-4.1", 1), cell("a\u0000b", "m", 1)]],
      expected: [cell("a", "b.gpt-4.1", 1), cell("a.b", "gpt-4.1", 1), cell("a\u0000b", "m", 1)].sort((x, y) => x.service.localeCompare(y.service)),
    },
    {
      name: "sorted by service, then model",
      lists: [[cell("b", "x", 1), cell("a", "y", 1), cell("a", "x", 1)]],
      expected: [cell("a", "x", 1), cell("a", "y", 1), cell("b", "x", 1)],
    },
  ];
  for (const { name, lists, expected } of cases) assert.deepEqual(sumCells(...lists), expected, name);
});

test("sumCells does not change its inputs", () => {
  const input = [cell("a", "m", 1)];
  sumCells(input, input);
  assert.deepEqual(input, [cell("a", "m", 1)]);
});

test("totalCost sums nano-dollars exactly", () => {
  assert.equal(totalCost([cell("a", "m", 1, 100_000_001), cell("b", "m", 1, 200_000_002)]), 300_000_003);
  assert.equal(totalCost([]), 0);
});

test("report rows group days' cells by day, service or model, with the total", () => {
  const days = [
    { day: "2026-11-28", cells: [cell("checkout", "gpt-4o", 2, 3_000_000_000), cell("search", "gpt-4o-mini", 1, 0)] },
    { day: "2026-11-29", cells: [cell("checkout", "gpt-4o-mini", 4, 1_000_000_000)] },
    { day: "2026-11-30", cells: [] },
  ];
  const keyed = (groupBy: "day" | "service" | "model") => reportRows(days, groupBy).rows.map((row) => [row.key, row.requests, row.costUsd]);
  assert.deepEqual(keyed("day"), [["2026-11-28", 3, 3], ["2026-11-29", 4, 1]]);
  assert.deepEqual(keyed("service"), [["checkout", 6, 4], ["search", 1, 0]]);
  assert.deepEqual(keyed("model"), [["gpt-4o", 2, 3], ["gpt-4o-mini", 5, 1]]);
  const { total } = reportRows(days, "day");
  assert.deepEqual([total.key, total.requests, total.costUsd], ["total", 7, 4]);
  assert.deepEqual(reportRows([], "day"), { total: { key: "total", ...emptyRow() }, rows: [] });
});

function emptyRow() {
  const { costNanoUsd: _cost, ...rest } = emptyCounters();
  return { ...rest, costUsd: 0 };
}

test("a day keeps a bounded number of services by name; later new services are counted together, nothing is lost", () => {
  const cases: { name: string; day: UsageCell[]; added: UsageCell[]; expected: UsageCell[] }[] = [
    { name: "under the bound", day: [cell("a", "m", 1)], added: [cell("b", "m", 2)], expected: [cell("a", "m", 1), cell("b", "m", 2)] },
    { name: "known services stay named past the bound", day: [cell("a", "m", 1), cell("b", "m", 1)], added: [cell("a", "m", 2)], expected: [cell("a", "m", 3), cell("b", "m", 1)] },
    {
      name: "new services past the bound go to the shared cell, per model",
      day: [cell("a", "m", 1), cell("b", "m", 1)],
      added: [cell("c", "m", 2, 5), cell("d", "m", 3, 7), cell("d", "n", 1)],
      expected: [cell(OTHER_SERVICES, "m", 5, 12), cell(OTHER_SERVICES, "n", 1), cell("a", "m", 1), cell("b", "m", 1)],
    },
    {
      name: "the last named place is taken, then the shared cell",
      day: [cell("a", "m", 1)],
      added: [cell("b", "m", 1), cell("c", "m", 1)],
      expected: [cell(OTHER_SERVICES, "m", 1), cell("a", "m", 1), cell("b", "m", 1)],
    },
  ];
  for (const { name, day, added, expected } of cases) {
    const total = addToDay(day, added, 3);
    assert.deepEqual(total, expected, name);
    const requests = (cells: UsageCell[]) => cells.reduce((sum, c) => sum + c.requests, 0);
    assert.equal(requests(total), requests(day) + requests(added), `${name}: every request counted`);
  }
  const crowded = Array.from({ length: 5000 }, (_, i) => cell(`service-${i}`, "m", 1));
  assert.equal(addToDay([], crowded).length, 200, "5,000 caller-chosen services keep 199 names and the shared cell");
});
