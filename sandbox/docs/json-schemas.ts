import { z } from "zod";

type JsonSchema = Record<string, unknown>;

/**
 * A zod schema as JSON Schema draft-07 (the dialect AsyncAPI's default schema format extends),
 * through zod 4's own converter. `io` picks the side: what a caller may send (defaults are
 * optional) or what it gets back. Refinements JSON Schema cannot say are left out, never
 * invented; the contract's zod schema stays the authority.
 */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const converted = z.toJSONSchema(schema, { target: "draft-07", io, unrepresentable: "any", cycles: "throw", reused: "inline" }) as JsonSchema;
  const { $schema: _dialect, ...rest } = converted;
  if ("definitions" in rest || "$defs" in rest) throw new Error("a contract schema needs shared definitions, which the generator does not place in components");
  return rest;
}
