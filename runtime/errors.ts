import { RETRYABLE_CODES, TERMINAL_CODES, type ErrorBody, type ErrorCode } from "../protocol/errors.ts";

const MESH_ERROR = Symbol.for("meshwork.MeshError");

/** The one error type of the mesh: a code from the closed set, a safe message, maybe a retry hint. */
export class MeshError extends Error {
  readonly [MESH_ERROR] = true;
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "MeshError";
    this.code = code;
    this.retryAfterMs = options.retryAfterMs === undefined ? undefined : Math.max(0, Math.ceil(options.retryAfterMs));
  }

  /** The answer is about the moment: the same work may succeed later (protocol/errors.ts). */
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }

  /** The same work gets the same answer: never worth repeating (protocol/errors.ts). */
  get terminal(): boolean {
    return TERMINAL_CODES.has(this.code);
  }

  toBody(): ErrorBody {
    return this.retryAfterMs === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfterMs: this.retryAfterMs };
  }
}

/** Recognises a MeshError by brand, so duplicate copies of this module still agree. */
export function isMeshError(error: unknown): error is MeshError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MESH_ERROR] === true;
}

export function hasCode(error: unknown, code: ErrorCode): boolean {
  return isMeshError(error) && error.code === code;
}

/** Anything that is not a MeshError becomes INTERNAL; the detail stays in `cause` for the log. */
export function toMeshError(error: unknown): MeshError {
  if (isMeshError(error)) return error;
  return new MeshError("INTERNAL", "internal error", { cause: error });
}
