/**
 * fast-check arbitraries of the inputs a zod 4 schema accepts, for the fuzz test: the schema is
 * turned into JSON Schema by zod itself (`z.toJSONSchema`, input side, so defaulted fields are
 * optional) and the keywords our contracts use are mapped onto fast-check's own arbitraries.
 * Written here because no maintained library does it for zod 4 and fast-check 4 (zod-fast-check
 * stops at zod 3 and fast-check 3, @traversable's zod fuzzer is not published, the JSON Schema
 * one is built on fast-check 1, zocker is not fast-check and emits BigInts for `z.unknown()`).
 *
 * What the generated values favour, besides typical ones: numbers at their bounds, strings at
 * their length limits (a field whose limit is beyond the payload limit gets a huge string
 * instead), arrays at their item limits, and, inside free-form objects (`z.record`), keys a
 * database or a JavaScript object treats specially (`$where`, `a.b`, `__proto__`). Refinements
 * are not in JSON Schema, so a value can still fail one (`z.refine`): the fuzz test counts it as
 * a validation case. A keyword this file does not know throws, so a contract that grows one is
 * noticed here rather than fuzzed with the wrong shape.
 */
import fc from "fast-check";
import { z } from "zod";

export interface SchemaArbitraryOptions {
  /**
   * Values mixed in (half the time) for object properties of these names: the ids, models and
   * dates that exist in the mesh under test, so generated requests get past lookups.
   */
  readonly hints?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Length of the huge string given to a field whose limit is longer (default 150,000). */
  readonly hugeStringLength?: number;
}

/** The JSON Schema keywords z.toJSONSchema emits for our contracts. */
interface JsonSchema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly propertyNames?: JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly default?: unknown;
  readonly description?: string;
  readonly $schema?: string;
}

const KNOWN_KEYWORDS = new Set<string>(["type", "properties", "required", "additionalProperties", "propertyNames", "items", "minItems", "maxItems",
  "minLength", "maxLength", "pattern", "format", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf",
  "default", "description", "$schema"]);

/** Keys that MongoDB (operators, dotted paths, `_id`) or JavaScript (prototype) treat specially. */
const SPECIAL_KEYS = fc.constantFrom("$where", "$gt", "$set", "$", "a.b", "_id", "__proto__", "constructor", "prototype", "");
/** A typical value and, one time in `1 + typicalWeight`, a boundary one. */
const favouring = <T>(typical: fc.Arbitrary<T>, boundary: fc.Arbitrary<T>, typicalWeight = 5): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: typical, weight: typicalWeight }, { arbitrary: boundary, weight: 1 });
const anyText = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));

/** Any JSON value, with special keys in its objects. */
const freeJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" },
    fc.oneof(anyText, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
    fc.dictionary(fc.oneof(fc.string(), SPECIAL_KEYS), tie("value"), { maxKeys: 5 }),
    fc.array(tie("value"), { maxLength: 5 })),
})).value;

/** Arbitrary of the values `schema` accepts as input (up to its refinements). */
export function schemaArbitrary(schema: z.ZodType, options: SchemaArbitraryOptions = {}): fc.Arbitrary<unknown> {
  const jsonSchema = z.toJSONSchema(schema, { io: "input", unrepresentable: "throw" }) as JsonSchema;
  return fromJsonSchema(jsonSchema, { hints: options.hints ?? {}, hugeStringLength: options.hugeStringLength ?? 150_000 }, "");
}

function fromJsonSchema(schema: JsonSchema, options: Required<SchemaArbitraryOptions>, path: string): fc.Arbitrary<unknown> {
  const unknownKeyword = Object.keys(schema).find((key) => !KNOWN_KEYWORDS.has(key));
  if (unknownKeyword) throw new Error(`schemaArbitrary: JSON Schema keyword "${unknownKeyword}" at ${path || "the root"} is not supported`);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((alternative, i) => fromJsonSchema(alternative, options, `${path}|${i}`)));
  switch (schema.type) {
    case undefined:
      return freeJson;
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number":
      return numberArbitrary(schema);
    case "string":
      return stringArbitrary(schema, options.hugeStringLength);
    case "array": {
      if (!schema.items) throw new Error(`schemaArbitrary: array without items at ${path}`);
      const items = fromJsonSchema(schema.items, options, `${path}[]`);
      const minLength = schema.minItems ?? 0;
      const typical = fc.array(items, { minLength, ...(schema.maxItems === undefined ? {} : { maxLength: schema.maxItems }) });
      return schema.maxItems === undefined ? typical : favouring(typical, fc.array(items, { minLength: schema.maxItems, maxLength: schema.maxItems }), 9);
    }
    case "object":
      return objectArbitrary(schema, options, path);
  }
}

function numberArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  const integer = schema.type === "integer";
  const step = integer ? 1 : Number.EPSILON;
  const min = schema.minimum ?? (schema.exclusiveMinimum === undefined ? undefined : schema.exclusiveMinimum + step);
  const max = schema.maximum ?? (schema.exclusiveMaximum === undefined ? undefined : schema.exclusiveMaximum - step);
  const typical = integer
    ? fc.integer({ min: Math.max(min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER), max: Math.min(max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) })
    : fc.double({ noNaN: true, noDefaultInfinity: true, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });
  const bounds = [min, max, 0, 1].filter((value): value is number => value !== undefined && (min === undefined || value >= min) && (max === undefined || value <= max));
  return favouring(typical, fc.constantFrom(...bounds));
}

function stringArbitrary(schema: JsonSchema, hugeStringLength: number): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength;
  if (schema.pattern !== undefined) {
    const matching = fc.stringMatching(new RegExp(schema.pattern));
    return minLength === 0 && maxLength === undefined ? matching : matching.filter((text) => text.length >= minLength && (maxLength === undefined || text.length <= maxLength));
  }
  const typical = fc.oneof(...[{}, { unit: "binary" as const }, { unit: "grapheme" as const }].map((unit) => fc.string({ ...unit, minLength, ...(maxLength === undefined ? {} : { maxLength }) })));
  // Long strings are a random piece repeated: as varied as the tokenizer needs, cheap to build.
  const ofLength = (length: number) => fc.string({ minLength: 1, maxLength: 20, unit: "binary" }).map((piece) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length));
  const boundaries = [fc.constant("x".repeat(minLength))];
  if (maxLength !== undefined) boundaries.push(ofLength(Math.min(maxLength, hugeStringLength)));
  return favouring(typical, fc.oneof(...boundaries), maxLength !== undefined && maxLength > hugeStringLength ? 30 : 5);
}

function objectArbitrary(schema: JsonSchema, options: Required<SchemaArbitraryOptions>, path: string): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const derived = fromJsonSchema(property, options, `${path}.${name}`);
    const hint = options.hints[name];
    return [name, hint ? fc.oneof(hint, derived) : derived] as const;
  });
  const known = fc.record(Object.fromEntries(properties), { requiredKeys: [...(schema.required ?? [])] });
  const extra = schema.additionalProperties;
  if (extra === undefined || extra === false) return known;
  const values = extra === true ? freeJson : fromJsonSchema(extra, options, `${path}.*`);
  const keys = schema.propertyNames && schema.propertyNames.type !== "string"
    ? fromJsonSchema(schema.propertyNames, options, `${path} keys`) as fc.Arbitrary<string>
    : fc.oneof(fc.string(), SPECIAL_KEYS);
  return fc.tuple(known, fc.dictionary(keys, values, { maxKeys: 8 })).map(([fixed, free]) => ({ ...free, ...(fixed as object) }));
}
