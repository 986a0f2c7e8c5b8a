import { randomBytes } from "node:crypto";

/** A W3C traceparent for a request that came without one. */
export function newTraceparentFor(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}
