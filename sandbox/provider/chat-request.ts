import { z } from "zod";
import { invalidRequest, type OpenAIHttpError } from "./openai-errors.ts";

const TextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const OtherPart = z.looseObject({ type: z.string() });

const ToolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const Message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(z.union([TextPart, OtherPart]))]).nullable().optional(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCall).optional(),
  tool_call_id: z.string().optional(),
});

const Tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({ name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'") }),
});

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);

const MaxTokens = z.number().int().positive().nullable().optional();

/** The part of a Chat Completions request the provider reads; other fields are accepted and ignored. */
export const ChatCompletionRequest = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(Message).min(1),
  max_tokens: MaxTokens,
  max_completion_tokens: MaxTokens,
  temperature: z.number().min(0).max(2).nullable().optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;
export type ChatMessage = z.infer<typeof Message>;

function paramName(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join("");
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The first problem with the request, worded the way OpenAI words it, or the parsed request. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest("The request body must be a JSON object.", "invalid_body");
  }
  const parsed = ChatCompletionRequest.safeParse(body);
  if (!parsed.success) throw toInvalidRequest(body, parsed.error.issues[0]);
  const request = parsed.data;
  if (request.stream_options && request.stream !== true) {
    throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "invalid_value", "stream_options");
  }
  checkToolChoice(request);
  return request;
}

function toInvalidRequest(body: unknown, issue: z.core.$ZodIssue | undefined): OpenAIHttpError {
  const path = issue?.path ?? [];
  const param = paramName(path);
  if (issue?.code === "invalid_type" && valueAt(body, path) === undefined) {
    return invalidRequest(`Missing required parameter: '${param}'.`, "missing_required_parameter", param);
  }
  return invalidRequest(`Invalid value for '${param}': ${issue?.message ?? "invalid"}.`, "invalid_value", param || null);
}

function checkToolChoice(request: ChatCompletionRequest): void {
  const choice = request.tool_choice;
  if (choice === undefined) return;
  const declared = (request.tools ?? []).map((tool) => tool.function.name);
  if (declared.length === 0 && choice !== "none") {
    throw invalidRequest("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "invalid_value", "tool_choice");
  }
  if (typeof choice === "object" && !declared.includes(choice.function.name)) {
    throw invalidRequest(`Invalid value for 'tool_choice': no function named '${choice.function.name}' was specified in 'tools'.`, "invalid_value", "tool_choice");
  }
}
