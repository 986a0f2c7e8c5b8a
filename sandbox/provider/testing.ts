import type { TestContext } from "node:test";
import OpenAI from "openai";
import { startTestProvider, type TestProvider, type TestProviderOptions } from "./test-provider.ts";

/** A fresh provider for one test, stopped when the test ends, and an SDK client that never retries. */
export async function useProvider(t: TestContext, options: TestProviderOptions = {}): Promise<{ provider: TestProvider; client: OpenAI }> {
  const provider = await startTestProvider(options);
  t.after(() => provider.stop());
  return { provider, client: new OpenAI({ baseURL: provider.baseURL, apiKey: "test", maxRetries: 0 }) };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

export function ask(content: string, model = "gpt-4o-mini"): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  return { model, messages: [{ role: "user", content }] };
}
