import { createHash } from "node:crypto";
import type { Context } from "hono";

/**
 * A cacheable read: strong ETag (SHA-256 of the body), `Cache-Control: private` (per tenant:
 * shared caches must not keep it) with the gateway's own reuse time, and 304 for a matching
 * `If-None-Match`. `Vary: Authorization`, since the key decides the tenant.
 */
export function cacheableJson(c: Context, body: unknown, maxAgeSeconds: number): Response {
  const payload = JSON.stringify(body);
  const etag = `"${createHash("sha256").update(payload).digest("base64url").slice(0, 27)}"`;
  const headers = { etag, "cache-control": `private, max-age=${maxAgeSeconds}`, vary: "Authorization" };
  const match = c.req.header("if-none-match");
  if (match && match.split(",").map((tag) => tag.trim().replace(/^W\//, "")).some((tag) => tag === etag || tag === "*")) {
    return c.body(null, 304, headers);
  }
  return c.body(payload, 200, { ...headers, "content-type": "application/json" });
}
