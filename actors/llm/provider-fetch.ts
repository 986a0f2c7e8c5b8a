import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { BufferedResponse } from "./buffered-response.ts";

const IDLE_CONNECTION_MS = 1000;

/**
 * The `fetch` the provider's `openai` client sends with: `node:http` over keep-alive
 * connections. Node's built-in fetch (undici) builds WHATWG request, stream and abort objects
 * for every call; measured with the SDK against the test provider, this one costs about a third
 * less CPU per completion (sandbox/bench/README.md, "What the AI path spends its time on"). It
 * does what the SDK asks of fetch: method, headers, a string or byte body, the abort signal
 * (its timeout and the caller's), and a `Response` whose body is read whole (handed over
 * without a body stream: buffered-response.ts), or streamed for server-sent events. Any other
 * body (a form, a stream) goes through the built-in fetch.
 */
export function createProviderFetch(): typeof fetch {
  // An idle connection is closed well before a server's keep-alive timeout (Node's own 5 s;
  // the agent's margin of 1 s under the announced one was too little on a loaded machine: a
  // request sent as the server closed the socket failed with ECONNRESET). The bound applies
  // to idle connections only: a call may wait on its answer for as long as its timeout.
  const options = { keepAlive: true, timeout: IDLE_CONNECTION_MS };
  const agents = { "http:": new HttpAgent(options), "https:": new HttpsAgent(options) };

  return async function providerFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const url = typeof input === "string" ? new URL(input) : input instanceof URL ? input : undefined;
    const body = init.body ?? undefined;
    const plainBody = body === undefined || typeof body === "string" || body instanceof Uint8Array;
    if (!url || !plainBody || (url.protocol !== "http:" && url.protocol !== "https:")) return fetch(input, init);
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, { method: init.method ?? "GET", headers: plainHeaders(init.headers), agent: agents[url.protocol as "http:"], signal }, resolve);
      request.once("error", reject);
      request.end(body);
    });
    const headers = new Headers();
    const raw = response.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    const init_ = { status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", headers };
    if (response.statusCode === 204 || response.statusCode === 304 || init.method === "HEAD") {
      response.resume();
      return new Response(null, init_);
    }
    if (headers.get("content-type")?.startsWith("text/event-stream")) {
      return new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, init_);
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      // Aborted while the body arrived: an abort as fetch reports it (the SDK tells timeouts by it).
      throw signal?.aborted ? new DOMException("the request was aborted", "AbortError") : error;
    }
    return new BufferedResponse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), init_);
  };
}

function plainHeaders(headers: RequestInit["headers"]): OutgoingHttpHeaders {
  const plain: OutgoingHttpHeaders = {};
  if (headers === undefined) return plain;
  if (headers instanceof Headers) headers.forEach((value, name) => { plain[name] = value; });
  else if (Array.isArray(headers)) for (const [name, value] of headers) plain[name!.toLowerCase()] = value;
  else for (const [name, value] of Object.entries(headers as Record<string, string>)) plain[name.toLowerCase()] = value;
  return plain;
}
