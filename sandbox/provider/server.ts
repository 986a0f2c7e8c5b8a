import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ADMIN_ROUTES, handleAdmin } from "./admin-routes.ts";
import { BehaviourStore } from "./behaviour.ts";
import { writeCompletionStream } from "./completion-stream.ts";
import { handleCompletion } from "./completions-route.ts";
import { requestSignal, sendJson } from "./http-io.ts";
import { invalidRequest, modelNotFound, OpenAIHttpError, serverError } from "./openai-errors.ts";
import { StatsCounter } from "./stats.ts";

export interface ProviderServerOptions {
  readonly models?: readonly string[] | undefined;
  /** Called with anything unexpected thrown while answering; the client only gets a generic 500. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

const MODEL_CREATED = 1_700_000_000;

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** The test provider's HTTP server; one instance per `startTestProvider`. */
export class ProviderServer {
  readonly behaviour: BehaviourStore;
  readonly stats = new StatsCounter();
  readonly #server: Server;
  readonly #stopping = new AbortController();
  readonly #onError: (error: unknown) => void;
  #stopped: Promise<void> | undefined;

  constructor(options: ProviderServerOptions = {}) {
    this.behaviour = new BehaviourStore(options.models);
    this.#onError = options.onError ?? (() => {});
    this.#server = createServer((request, response) => void this.#answer(request, response));
  }

  /** Listens and resolves with the server's root URL, e.g. "http://127.0.0.1:40123". */
  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}`;
  }

  /** Stops listening and drops every connection, including requests held by `hang`. */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      this.#stopping.abort();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#stopped;
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const path = new URL(request.url ?? "/", "http://provider").pathname.replace(/\/+$/, "");
    const isCompletion = path === "/v1/chat/completions";
    try {
      if (isCompletion && method === "POST") return await this.#complete(request, response);
      const body = await this.#route(method, path, request, response);
      sendJson(response, 200, body);
    } catch (error) {
      if (isAbort(error)) return;
      if (!(error instanceof OpenAIHttpError)) this.#onError(error);
      const reply = error instanceof OpenAIHttpError ? error : serverError();
      if (isCompletion) this.stats.replied(reply.status);
      sendJson(response, reply.status, reply.body, reply.headers);
    }
  }

  async #complete(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const signal = requestSignal(response, this.#stopping.signal);
    const { completion, stream } = await handleCompletion(this, request, signal);
    this.stats.replied(200);
    if (!stream) {
      sendJson(response, 200, completion);
      this.stats.billed(completion.model, completion.usage.total_tokens);
      return;
    }
    const finished = await writeCompletionStream(response, completion, stream, signal);
    if (finished) this.stats.billed(completion.model, completion.usage.total_tokens);
    this.stats.streamEnded(finished);
  }

  async #route(method: string, path: string, request: IncomingMessage, response: ServerResponse): Promise<unknown> {
    if (path === "/v1/models" && method === "GET") {
      return { object: "list", data: this.behaviour.models.map((id) => this.#model(id)) };
    }
    if (path.startsWith("/v1/models/") && method === "GET") {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      if (!this.behaviour.isKnownModel(id)) throw modelNotFound(id);
      return this.#model(id);
    }
    const adminMethods = ADMIN_ROUTES[path];
    if (adminMethods?.includes(method)) return handleAdmin(this, method, path, request);
    if (adminMethods || path === "/v1/chat/completions" || path === "/v1/models") {
      throw invalidRequest(`Method ${method} is not allowed on ${path}.`, "method_not_allowed", null, 405);
    }
    throw invalidRequest(`Unknown request URL: ${method} ${path}.`, "unknown_url", null, 404);
  }

  #model(id: string): { id: string; object: "model"; created: number; owned_by: string } {
    return { id, object: "model", created: MODEL_CREATED, owned_by: "meshwork-test-provider" };
  }
}
