/**
 * Small edits of a valid JSON input, each of which a schema must catch or a handler must survive:
 * a field added where the contract has none, a field removed, a value of another type, a number
 * just past a bound. The edit lands on a node picked by the generator, so every depth is reached.
 */
import fc from "fast-check";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Edit {
  readonly kind: "add-field" | "drop-field" | "other-type" | "number-past-bound";
  /** Which eligible node is edited (modulo their count). */
  readonly pick: number;
  readonly key: string;
  readonly replacement: Json;
  readonly shift: number;
}

const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom("add-field", "drop-field", "other-type", "number-past-bound"),
  pick: fc.nat(),
  key: fc.oneof(fc.string(), fc.constantFrom("unexpected", "$set", "$where", "__proto__", "tenant", "_id")),
  replacement: fc.oneof(fc.constantFrom<Json>(null, "", "1", [], {}, true, -1, 0.5, 2 ** 53, 1e308, -1e308), fc.jsonValue() as fc.Arbitrary<Json>),
  shift: fc.constantFrom(1, -1, 0.5, -0.5, 1e6, -1e6),
});

/** Every node of `value` with the object or array holding it (none for the root). */
function nodesOf(value: Json, parent?: { holder: Json[] | Record<string, Json>; key: string | number }): Array<{ node: Json; parent?: typeof parent }> {
  const found: Array<{ node: Json; parent?: typeof parent }> = [{ node: value, parent }];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...nodesOf(item, { holder: value, key: index })));
  else if (value !== null && typeof value === "object") for (const key of Object.keys(value)) found.push(...nodesOf(value[key]!, { holder: value, key }));
  return found;
}

/** Sets an own property, also for the key `__proto__` (an assignment would set the prototype). */
function setOwn(holder: Json[] | Record<string, Json>, key: string | number, value: Json): void {
  Object.defineProperty(holder, key, { value, enumerable: true, configurable: true, writable: true });
}

function applyEdit(input: unknown, change: Edit): unknown {
  const value = JSON.parse(JSON.stringify(input)) as Json;
  const nodes = nodesOf(value);
  const isObject = (node: Json): node is Record<string, Json> => node !== null && typeof node === "object" && !Array.isArray(node);
  const eligible = nodes.filter(({ node, parent }) => {
    switch (change.kind) {
      case "add-field": return isObject(node);
      case "drop-field": return isObject(node) && Object.keys(node).length > 0;
      case "other-type": return parent !== undefined;
      case "number-past-bound": return typeof node === "number";
    }
  });
  const target = eligible[change.pick % Math.max(1, eligible.length)];
  if (!target) return value;
  const { node, parent } = target;
  if (change.kind === "add-field" && isObject(node)) setOwn(node, change.key, change.replacement);
  else if (change.kind === "drop-field" && isObject(node)) delete node[Object.keys(node)[change.pick % Object.keys(node).length]!];
  else if (parent) {
    const replacement = change.kind === "number-past-bound" ? (node as number) + change.shift : change.replacement;
    setOwn(parent.holder, parent.key, replacement);
  } else if (change.kind === "number-past-bound") return (node as number) + change.shift;
  return value;
}

/** `valid`, edited once. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, edit).map(([input, change]) => applyEdit(input, change));
}
