import { MeshError } from "../../runtime/errors.ts";
import type { BehaviourPatch, BehaviourSnapshot } from "./behaviour.ts";
import type { ProviderStats } from "./stats.ts";

/** Run-time control of a test provider, in this process or another, over its `/admin` endpoints. */
export interface ProviderAdmin {
  /** Merges `patch` into the behaviour (for one model when `patch.model` is set). */
  setBehaviour(patch: BehaviourPatch): Promise<void>;
  behaviour(): Promise<BehaviourSnapshot>;
  /** Behaviour, model list and counters back to how the provider started. */
  reset(): Promise<void>;
  stats(): Promise<ProviderStats>;
}

export interface ProviderAdminOptions {
  readonly timeoutMs?: number;
}

/**
 * A client for the admin endpoints. `url` is the provider's root URL or its baseURL (ending in
 * /v1). A rejected patch throws MeshError BAD_REQUEST with the provider's explanation; an
 * unreachable or failing provider throws UNAVAILABLE.
 */
export function providerAdmin(url: string, { timeoutMs = 5_000 }: ProviderAdminOptions = {}): ProviderAdmin {
  const root = url.replace(/\/+$/, "").replace(/\/v1$/, "");

  async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new MeshError("UNAVAILABLE", `test provider at ${root} did not answer ${method} ${path}`, { cause: error });
    }
    const payload = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    if (response.ok) return payload as T;
    const detail = payload?.error?.message ?? `HTTP ${response.status}`;
    throw new MeshError(response.status === 400 ? "BAD_REQUEST" : "UNAVAILABLE", `test provider ${method} ${path}: ${detail}`);
  }

  return {
    setBehaviour: async (patch) => {
      await call("POST", "/admin/behaviour", patch);
    },
    behaviour: () => call<BehaviourSnapshot>("GET", "/admin/behaviour"),
    reset: async () => {
      await call("POST", "/admin/reset");
    },
    stats: () => call<ProviderStats>("GET", "/admin/stats"),
  };
}
