/**
 * The first two stages of every piece of work, request or event: decode the JSON payload, then
 * validate it against the contract's schema. A failure is described in one line of schema paths
 * and messages (never the payload itself), for a BAD_REQUEST reply or a dead-letter reason.
 */
import type { z } from "zod";

const decoder = new TextDecoder();

export type Decoded<T> =
  | { readonly ok: true; readonly value: T; readonly body: unknown }
  | { readonly ok: false; readonly stage: "json" | "schema"; readonly reason: string };

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** A short, single-line summary of schema issues: paths and messages only, at most `maxLength` characters. */
export function describeIssues(issues: readonly Issue[], max = 5, maxLength = 300): string {
  const text = issues
    .slice(0, max)
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text;
}

/**
 * Decodes and validates. `emptyAs` is what an empty payload means (requests: `{}`, so a request
 * with no input needs no body); without it an empty payload is malformed JSON.
 */
export function decodePayload<S extends z.ZodType>(schema: S, data: Uint8Array, emptyAs?: unknown): Decoded<z.output<S>> {
  let body: unknown;
  if (data.length === 0 && emptyAs !== undefined) {
    body = emptyAs;
  } else {
    try {
      body = JSON.parse(decoder.decode(data));
    } catch {
      return { ok: false, stage: "json", reason: "malformed JSON" };
    }
  }
  const parsed = schema.safeParse(body);
  return parsed.success ? { ok: true, value: parsed.data, body } : { ok: false, stage: "schema", reason: describeIssues(parsed.error.issues) };
}
