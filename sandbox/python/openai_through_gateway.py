"""The official Python `openai` package against the Meshwork gateway: one completion, one stream.

Reads OPENAI_BASE_URL (the gateway's /v1) and OPENAI_API_KEY (a tenant key); prints one JSON line
with what it got, for sandbox/python/python-sdk.check.ts to assert on.
"""
import json

from openai import OpenAI

client = OpenAI(max_retries=0)
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello from Python"}], max_tokens=32
)
text = ""
usage = None
for chunk in client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello from Python"}],
    max_tokens=32,
    stream=True,
    stream_options={"include_usage": True},
):
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage.model_dump()
print(json.dumps({
    "content": completion.choices[0].message.content,
    "usage": completion.usage.model_dump(),
    "streamed": text,
    "streamUsage": usage,
}))
