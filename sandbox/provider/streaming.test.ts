import { test } from "node:test";
import assert from "node:assert/strict";
import { ask, useProvider } from "./testing.ts";

test("stream: true sends the same reply as chunks, and usage last when include_usage asks for it", async (t) => {
  const { client } = await useProvider(t);
  const whole = await client.chat.completions.create(ask("Stream me a reply"));
  const stream = await client.chat.completions.create({ ...ask("Stream me a reply"), stream: true, stream_options: { include_usage: true } });
  let content = "";
  let finish: string | null = null;
  let usage: unknown;
  let contentChunks = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    const delta = chunk.choices[0]?.delta.content;
    if (delta) {
      content += delta;
      contentChunks += 1;
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(content, whole.choices[0]!.message.content);
  assert.equal(contentChunks, whole.usage!.completion_tokens);
  assert.equal(finish, "stop");
  assert.deepEqual(usage, whole.usage);
});

test("without include_usage a stream carries no usage", async (t) => {
  const { client } = await useProvider(t);
  const stream = await client.chat.completions.create({ ...ask("No usage please"), stream: true });
  for await (const chunk of stream) assert.equal(chunk.usage, undefined);
});

test("a client that stops reading a slow stream is seen as gone", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ chunkDelayMs: 200 });
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ ...ask("A slow stream"), stream: true }, { signal: controller.signal });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) break;
  }
  controller.abort();
  await provider.untilStreamsAbandoned(1);
  assert.deepEqual((await provider.stats()).streams, { completed: 0, abandoned: 1 });
  assert.deepEqual(provider.billedCalls(), [], "an abandoned stream is not in the billed log");
});
