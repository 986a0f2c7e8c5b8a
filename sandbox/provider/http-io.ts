import type { IncomingMessage, ServerResponse } from "node:http";
import { invalidRequest, OpenAIHttpError } from "./openai-errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads and parses a JSON body; oversize or unparsable bodies become OpenAI-style 4xx errors. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      // The rest of the body is never read, so the connection cannot carry another request.
      throw new OpenAIHttpError(413, {
        message: `The request body is larger than ${MAX_BODY_BYTES} bytes.`, type: "invalid_request_error", param: null, code: "request_too_large",
      }, { connection: "close" });
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim().length === 0) throw invalidRequest("The request body is empty; send a JSON object.", "invalid_json");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidRequest("We could not parse the JSON body of your request. The body must be valid JSON.", "invalid_json");
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (response.headersSent || response.destroyed) return;
  const payload = JSON.stringify(body);
  response.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  response.end(payload);
}

/** Aborts when the provider stops or the client goes away before its reply was sent. */
export function requestSignal(response: ServerResponse, stopping: AbortSignal): AbortSignal {
  const clientGone = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) clientGone.abort();
  });
  return AbortSignal.any([stopping, clientGone.signal]);
}
