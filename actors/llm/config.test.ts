import assert from "node:assert/strict";
import { test } from "node:test";
import { llmConfigFromEnv } from "./config.ts";
import { classifyProviderError, retryAfterFromHeaders } from "./provider-errors.ts";

test("configuration comes from the environment with defaults, and bad values are refused at start", () => {
  const config = llmConfigFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:9/v1", LLM_FALLBACKS: '{"large-model":"small-model"}', LLM_TIMEOUT_MS: "1500" });
  assert.deepEqual([config.baseURL, config.timeoutMs, config.fallbacks["large-model"], config.cacheTtlMs], ["http://127.0.0.1:9/v1", 1500, "small-model", 3_600_000]);
  assert.ok(Object.isFrozen(config));
  assert.deepEqual([config.refusalHoldMs, llmConfigFromEnv({ LLM_REFUSAL_HOLD_MS: "0" }).refusalHoldMs], [500, 0]);
  for (const env of [{ LLM_FALLBACKS: "not json" }, { LLM_FALLBACKS: '{"a":"a"}' }, { LLM_FALLBACKS: "[1]" }, { LLM_TIMEOUT_MS: "-5" }, { OPENAI_BASE_URL: "nowhere" }, { LLM_CACHE_TTL_MS: "soon" }, { LLM_REFUSAL_HOLD_MS: "-1" }, { LLM_REFUSAL_HOLD_MS: "a while" }]) {
    assert.throws(() => llmConfigFromEnv(env), /invalid llm configuration/, JSON.stringify(env));
  }
});

test("retry hints are read from retry-after-ms, retry-after seconds or an HTTP date", () => {
  assert.equal(retryAfterFromHeaders(new Headers({ "retry-after-ms": "1500", "retry-after": "9" })), 1500);
  assert.equal(retryAfterFromHeaders(new Headers({ "retry-after": "2" })), 2000);
  const date = retryAfterFromHeaders(new Headers({ "retry-after": new Date(Date.now() + 5000).toUTCString() }))!;
  assert.ok(date > 3000 && date <= 5000);
  assert.equal(retryAfterFromHeaders(new Headers({ "retry-after": "whenever" })), undefined);
  assert.deepEqual(classifyProviderError(new TypeError("boom"), () => 1), { kind: "server_error" });
});
