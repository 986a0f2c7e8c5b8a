import type { z } from "zod";
import { MeshError } from "../../runtime/index.ts";

/** A body that does not match the contract: 400 with zod's issues (path, code, message) in the body. */
export class SchemaViolation extends MeshError {
  readonly issues: readonly { path: (string | number)[]; code: string; message: string }[];
  constructor(error: z.ZodError) {
    super("BAD_REQUEST", `invalid request: ${error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ").slice(0, 500)}`);
    this.issues = error.issues.slice(0, 50).map((issue) => ({ path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)), code: issue.code, message: issue.message }));
  }
}
