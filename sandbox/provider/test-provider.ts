import { providerAdmin, type ProviderAdmin } from "./admin-client.ts";
import { ProviderServer } from "./server.ts";
import type { BilledCall } from "./stats.ts";
import { tokenizer } from "./tokens.ts";

export { providerAdmin, type ProviderAdmin, type ProviderAdminOptions } from "./admin-client.ts";
export { BehaviourPatch, DEFAULT_MODELS, ModelBehaviour, type BehaviourSnapshot } from "./behaviour.ts";
export type { BilledCall, ProviderStats } from "./stats.ts";
export { countPromptTokens, countTokens, ENCODING_NAME } from "./tokens.ts";

export interface TestProviderOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** The known model names; others get 404 model_not_found. Defaults to DEFAULT_MODELS. */
  readonly models?: readonly string[];
  /** Receives anything unexpected thrown while answering (callers only see a generic 500). */
  readonly onError?: (error: unknown) => void;
}

export interface TestProvider extends ProviderAdmin {
  /** For the openai SDK's `baseURL`: the root URL followed by /v1. */
  readonly baseURL: string;
  /** The root URL, e.g. "http://127.0.0.1:40123"; the admin endpoints live under `${url}/admin`. */
  readonly url: string;
  /** Stops listening and drops every connection, including hung requests. Idempotent. */
  stop(): Promise<void>;
  /**
   * In-process only: resolves once exactly `count` completion requests are held by `hang`
   * (0 after a client gave up on a hung request: its departure is seen asynchronously).
   */
  untilHanging(count: number, signal?: AbortSignal): Promise<void>;
  /** In-process only: resolves once at least `count` streamed replies ended with their client gone. */
  untilStreamsAbandoned(count: number, signal?: AbortSignal): Promise<void>;
  /**
   * In-process only: the provider's own log of what it billed, one entry per completion answered
   * whole or streamed to its end, oldest first (cleared by `reset`).
   */
  billedCalls(): readonly BilledCall[];
}

/** Starts an OpenAI-compatible test provider; its control methods go through the HTTP admin API. */
export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  tokenizer();
  const server = new ProviderServer({ models: options.models, onError: options.onError });
  const url = await server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return {
    ...providerAdmin(url),
    baseURL: `${url}/v1`,
    url,
    stop: () => server.stop(),
    untilHanging: (count, signal) => server.stats.untilHanging(count, signal),
    untilStreamsAbandoned: (count, signal) => server.stats.untilStreamsAbandoned(count, signal),
    billedCalls: () => server.stats.billedCalls(),
  };
}
