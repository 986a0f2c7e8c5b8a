import type { IncomingMessage } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { BehaviourStore, ModelBehaviour } from "./behaviour.ts";
import { parseChatRequest } from "./chat-request.ts";
import { buildCompletion, type ChatCompletion } from "./completion.ts";
import type { StreamOptions } from "./completion-stream.ts";
import { readJsonBody } from "./http-io.ts";
import { insufficientQuota, modelNotFound, rateLimitExceeded, serverError } from "./openai-errors.ts";
import type { StatsCounter } from "./stats.ts";

export interface CompletionsContext {
  readonly behaviour: BehaviourStore;
  readonly stats: StatsCounter;
}

/**
 * `POST /v1/chat/completions`: validation first (400, 404), then the behaviour set for the
 * model in this order: hang, latency, insufficient quota, rate limit, error rate.
 * Throws OpenAIHttpError for error replies and an AbortError when `signal` aborts.
 */
export interface CompletionAnswer {
  readonly completion: ChatCompletion;
  /** Set when the request asked for `stream: true`: how to stream it. */
  readonly stream: StreamOptions | undefined;
}

export async function handleCompletion(context: CompletionsContext, request: IncomingMessage, signal: AbortSignal): Promise<CompletionAnswer> {
  const { behaviour, stats } = context;
  stats.received();
  const body = await readJsonBody(request);
  const named = (body as { model?: unknown } | null)?.model;
  if (typeof named === "string") stats.named(named);
  const chat = parseChatRequest(body);
  if (!behaviour.isKnownModel(chat.model)) throw modelNotFound(chat.model);

  await waitWhileHanging(context, chat.model, signal);
  const latencyMs = behaviour.forModel(chat.model).latencyMs;
  if (latencyMs > 0) await delay(latencyMs, undefined, { signal });
  throwInjectedFailure(context, chat.model, behaviour.forModel(chat.model));
  const stream = chat.stream === true
    ? { includeUsage: chat.stream_options?.include_usage === true, chunkDelayMs: behaviour.forModel(chat.model).chunkDelayMs }
    : undefined;
  return { completion: buildCompletion(chat), stream };
}

async function waitWhileHanging({ behaviour, stats }: CompletionsContext, model: string, signal: AbortSignal): Promise<void> {
  if (!behaviour.forModel(model).hang) return;
  stats.hangStarted();
  try {
    while (behaviour.forModel(model).hang) await behaviour.nextChange(signal);
  } finally {
    stats.hangEnded();
  }
}

function throwInjectedFailure({ stats }: CompletionsContext, model: string, current: ModelBehaviour): void {
  if (current.insufficientQuota) throw insufficientQuota();
  if (current.rateLimited) throw rateLimitExceeded(model, current.rateLimited);
  if (current.errorRate > 0 && stats.shouldFail(model, current.errorRate)) throw serverError();
}
