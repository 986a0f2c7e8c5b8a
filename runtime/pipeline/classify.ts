/**
 * The classify stage of every piece of work: whatever a handler (or the runtime around it)
 * threw becomes one MeshError with its class from protocol/errors.ts. The request path replies
 * with `reply` (an INTERNAL failure's detail stays in the log); the event path dead-letters a
 * terminal failure and redelivers the rest.
 */
import { MeshError, isMeshError, toMeshError } from "../errors.ts";

export type Fate = "terminal" | "retryable" | "unknown-outcome";

export interface Failure {
  readonly error: MeshError;
  readonly fate: Fate;
  /** "CODE message"; for an unexpected exception its own message, which stays inside the mesh (logs, dead letters). */
  readonly detail: string;
  /** What a caller may be told: the error itself, or a bare INTERNAL. */
  readonly reply: MeshError;
}

const INTERNAL_REPLY = new MeshError("INTERNAL", "internal error");

export function classifyThrown(thrown: unknown): Failure {
  const error = toMeshError(thrown);
  const fate: Fate = error.terminal ? "terminal" : error.retryable ? "retryable" : "unknown-outcome";
  const cause = isMeshError(thrown) ? error.cause : thrown;
  const detail = `${error.code} ${error.code === "INTERNAL" && cause instanceof Error ? cause.message : error.message}`;
  return { error, fate, detail, reply: error.code === "INTERNAL" ? INTERNAL_REPLY : error };
}
