import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { getEncoding } from "js-tiktoken";
import OpenAI from "openai";
import { ask, rejectionOf, useProvider } from "./testing.ts";

const o200k = getEncoding("o200k_base");
const tokens = (text: string) => o200k.encode(text, [], []).length;

test("the same request gets the same reply and usage; another request gets another", async (t) => {
  const { client } = await useProvider(t);
  const first = await client.chat.completions.create(ask("What is the capital of France?"));
  const again = await client.chat.completions.create({ ...ask("What is the capital of France?"), temperature: 0.7 });
  const other = await client.chat.completions.create(ask("What is the capital of Spain?"));

  assert.equal(first.object, "chat.completion");
  assert.equal(first.model, "gpt-4o-mini");
  const choice = first.choices[0]!;
  assert.equal(choice.finish_reason, "stop");
  assert.equal(choice.message.role, "assistant");
  assert.deepEqual(again.choices[0]!.message, choice.message);
  assert.deepEqual(again.usage, first.usage);
  assert.notEqual(other.choices[0]!.message.content, choice.message.content);
  assert.notEqual(first.id, again.id);

  const digest = createHash("sha256").update(JSON.stringify([["user", "What is the capital of France?", null, null]])).digest("hex");
  assert.ok(choice.message.content!.startsWith(`reply:${digest.slice(0, 12)}`), choice.message.content!);
  const usage = first.usage!;
  assert.equal(usage.completion_tokens, tokens(choice.message.content!));
  assert.ok(usage.completion_tokens >= 8 && usage.completion_tokens <= 48, String(usage.completion_tokens));
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test("prompt_tokens follow the documented rule and grow with the prompt", async (t) => {
  const { client } = await useProvider(t);
  const system = "You are terse.";
  const user = "Count the tokens of <|endoftext|> as plain text, please.";
  const reply = await client.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "system", content: system }, { role: "user", content: [{ type: "text", text: user }], name: "ada" }],
  });
  const expected = 3 + (3 + tokens("system") + tokens(system)) + (3 + tokens("user") + tokens(user) + tokens("ada") + 1);
  assert.equal(reply.usage!.prompt_tokens, expected);

  const short = await client.chat.completions.create(ask("hello"));
  const long = await client.chat.completions.create(ask("hello ".repeat(50)));
  assert.ok(long.usage!.prompt_tokens > short.usage!.prompt_tokens + 40);
});

test("max_completion_tokens and max_tokens cut the reply, with finish_reason length", async (t) => {
  const { client } = await useProvider(t);
  for (const limit of [{ max_tokens: 3 }, { max_completion_tokens: 3 }]) {
    const reply = await client.chat.completions.create({ ...ask("Tell me a long story."), ...limit });
    assert.equal(reply.usage!.completion_tokens, 3);
    assert.equal(reply.choices[0]!.finish_reason, "length");
  }
});

test("a declared tool named in the last user message is called", async (t) => {
  const { client } = await useProvider(t);
  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    { type: "function", function: { name: "get_time" } },
  ];
  const called = await client.chat.completions.create({ ...ask("Please use tool get_time now."), tools });
  const choice = called.choices[0]!;
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, null);
  const call = choice.message.tool_calls?.[0];
  assert.ok(call?.type === "function");
  assert.equal(call.function.name, "get_time");
  assert.equal(call.function.arguments, "{}");
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.equal(called.usage!.completion_tokens, tokens("get_time") + tokens("{}"));

  const none = await client.chat.completions.create({ ...ask("Please use tool get_time now."), tools, tool_choice: "none" });
  assert.equal(none.choices[0]!.finish_reason, "stop");
  const undeclared = await client.chat.completions.create({ ...ask("use tool get_stock"), tools });
  assert.equal(undeclared.choices[0]!.message.tool_calls, undefined);
  const forced = await client.chat.completions.create({ ...ask("hi"), tools, tool_choice: { type: "function", function: { name: "get_weather" } } });
  const forcedCall = forced.choices[0]!.message.tool_calls?.[0];
  assert.equal(forcedCall?.type === "function" ? forcedCall.function.name : undefined, "get_weather");
});

test("bad tool requests are rejected with 400", async (t) => {
  const { client } = await useProvider(t);
  const withoutTools = await rejectionOf(client.chat.completions.create({ ...ask("hi"), tool_choice: "required" }));
  assert.ok(withoutTools instanceof OpenAI.BadRequestError);
  assert.equal(withoutTools.param, "tool_choice");
  const undeclared = await rejectionOf(client.chat.completions.create({
    ...ask("hi"), tools: [{ type: "function", function: { name: "a" } }], tool_choice: { type: "function", function: { name: "b" } },
  }));
  assert.ok(undeclared instanceof OpenAI.BadRequestError);
  const badName = await rejectionOf(client.chat.completions.create({ ...ask("hi"), tools: [{ type: "function", function: { name: "has space" } }] }));
  assert.ok(badName instanceof OpenAI.BadRequestError);
  assert.equal(badName.param, "tools[0].function.name");
});

test("unknown models get 404 model_not_found; the model list is served and can be changed", async (t) => {
  const { client, provider } = await useProvider(t);
  const unknown = await rejectionOf(client.chat.completions.create(ask("hi", "gpt-9")));
  assert.ok(unknown instanceof OpenAI.NotFoundError);
  assert.equal(unknown.code, "model_not_found");
  assert.equal(unknown.type, "invalid_request_error");

  const listed = [];
  for await (const model of client.models.list()) listed.push(model.id);
  assert.deepEqual(listed, ["gpt-4o-mini", "gpt-4o", "small-model", "large-model", "unpriced-model"]);
  assert.equal((await client.models.retrieve("gpt-4o")).id, "gpt-4o");

  await provider.setBehaviour({ models: ["gpt-9"] });
  assert.equal((await client.chat.completions.create(ask("hi", "gpt-9"))).model, "gpt-9");
  assert.ok((await rejectionOf(client.models.retrieve("gpt-4o"))) instanceof OpenAI.NotFoundError);
  await provider.reset();
  assert.equal((await client.models.retrieve("gpt-4o")).id, "gpt-4o");
});

test("malformed bodies get 400 invalid_request_error with a code and param", async (t) => {
  const { client, provider } = await useProvider(t);
  const post = (body: string) => fetch(`${provider.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const invalidJson = await post("{not json");
  assert.equal(invalidJson.status, 400);
  assert.deepEqual(((await invalidJson.json()) as { error: unknown }).error, {
    message: "We could not parse the JSON body of your request. The body must be valid JSON.", type: "invalid_request_error", param: null, code: "invalid_json",
  });
  assert.equal((await post("[1,2]")).status, 400);
  assert.equal((await post("x".repeat(1024 * 1024 + 1))).status, 413);

  const cases: [unknown, string, string][] = [
    [{ messages: [{ role: "user", content: "hi" }] }, "model", "missing_required_parameter"],
    [{ model: "gpt-4o" }, "messages", "missing_required_parameter"],
    [{ model: "gpt-4o", messages: [] }, "messages", "invalid_value"],
    [{ model: "gpt-4o", messages: [{ role: "robot", content: "hi" }] }, "messages[0].role", "invalid_value"],
    [{ ...ask("hi"), max_tokens: 0 }, "max_tokens", "invalid_value"],
    [{ ...ask("hi"), temperature: "hot" }, "temperature", "invalid_value"],
    [{ ...ask("hi"), stream_options: { include_usage: true } }, "stream_options", "invalid_value"],
  ];
  for (const [body, param, code] of cases) {
    const error = await rejectionOf(client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming));
    assert.ok(error instanceof OpenAI.BadRequestError, `${JSON.stringify(body)}: ${String(error)}`);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.param, param, JSON.stringify(body));
    assert.equal(error.code, code, JSON.stringify(body));
  }
});

test("unknown URLs get 404 and wrong methods 405", async (t) => {
  const { provider } = await useProvider(t);
  assert.equal((await fetch(`${provider.baseURL}/embeddings`, { method: "POST" })).status, 404);
  assert.equal((await fetch(`${provider.baseURL}/chat/completions`)).status, 405);
  assert.equal((await fetch(`${provider.url}/admin/stats`, { method: "POST" })).status, 405);
});

test("the billed log has one entry per answered completion with its total tokens; refused calls and reset leave none", async (t) => {
  const { client, provider } = await useProvider(t);
  const first = await client.chat.completions.create(ask("Bill me once"));
  const second = await client.chat.completions.create(ask("Bill me twice", "gpt-4o"));
  await rejectionOf(client.chat.completions.create(ask("No such model", "gpt-nonexistent")));
  assert.deepEqual(provider.billedCalls().map(({ model, tokens }) => ({ model, tokens })),
    [{ model: "gpt-4o-mini", tokens: first.usage!.total_tokens }, { model: "gpt-4o", tokens: second.usage!.total_tokens }]);
  await provider.reset();
  assert.deepEqual(provider.billedCalls(), []);
});
