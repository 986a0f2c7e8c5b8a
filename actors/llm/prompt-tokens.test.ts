import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { getEncoding } from "js-tiktoken";
import { countPromptTokens, countTokens, slices, TOKENIZER_CACHE_PIECES, warmUpTokenizer } from "./prompt-tokens.ts";

const whole = getEncoding("o200k_base");
const exact = (text: string) => whole.encode(text, [], []).length;
const prose = "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ";

test("ordinary text counts exactly as when encoded whole", () => {
  const cases: Record<string, string> = {
    "short sentence": "Hello, world!",
    "long prose": prose.repeat(400),
    "code with indentation": "function f(x) {\n    if (x > 1) {\n        return x * 2;\n    }\n\treturn 0;\n}\n".repeat(120),
    "runs of spaces and newlines": "a   b\n\n\nc \t d\r\n\r\ne      f".repeat(300),
    "numbers and punctuation": "1234567890 3.14159, 2,718; (42) [7] {x: 1} -- ... !!! ???".repeat(150),
    "unicode, emoji and CJK": "naïve café — 東京タワー 😀👍🏽 Ελληνικά 한국어 ".repeat(200),
    "special-token text": "<|endoftext|> and <|im_start|> are text here ".repeat(50),
    "json": JSON.stringify({ type: "object", properties: { city: { type: "string", description: "a city" } } }).repeat(60),
    "empty": "",
  };
  for (const [name, text] of Object.entries(cases)) assert.equal(countTokens(text), exact(text), name);
});

test("slices of a long run cover it exactly once, in order, never splitting a surrogate pair", () => {
  for (const run of ["x".repeat(1000), "😀".repeat(300), `${"é".repeat(129)}𝒜𝒜`, ""]) {
    const cut = [...slices(run, 128)];
    assert.equal(cut.join(""), run);
    assert.ok(cut.every((slice) => Array.from(slice).length <= 128 && !/^[\udc00-\udfff]/.test(slice)));
  }
});

test("long runs of letters or punctuation count close to their whole encoding (about one token more per slice)", () => {
  for (const run of ["abcdefghij".repeat(80), "=".repeat(2000), "ᚠᚢᚦᚨᚱᚲ".repeat(100)]) {
    const counted = countTokens(run);
    const whole = exact(run);
    assert.ok(counted >= whole && counted <= whole + Math.ceil(Array.from(run).length / 128) + 1, `${counted} vs ${whole}`);
  }
});

test("a 256 KiB run of one character counts close to its whole encoding, in linear time (no hang, no stack overflow)", { timeout: 20_000 }, () => {
  const word = "a".repeat(256 * 1024);
  const counted = countTokens(word);
  // A whole encoding of this run would take hours (quadratic merge); compare on a shorter run.
  const sample = "a".repeat(4096);
  const perChar = exact(sample) / sample.length;
  assert.ok(counted >= word.length * perChar * 0.9 && counted <= word.length * perChar * 1.2, `${counted} tokens`);
  assert.ok(countTokens("😀".repeat(64 * 1024)) > 0);
});

test("tool declarations count against the prompt: names, descriptions and parameter schemas", () => {
  const messages = [{ role: "user" as const, content: "What is the weather?" }];
  const bare = countPromptTokens(messages);
  const tool = { name: "weather", description: "Current weather for a city", parameters: { type: "object", properties: { city: { type: "string" } } } };
  const withTool = countPromptTokens(messages, [tool]);
  assert.ok(withTool - bare >= exact(JSON.stringify(tool)), `${withTool - bare} tokens for one tool`);
  const big = { name: "bulk", description: "d".repeat(1000), parameters: { blob: "lorem ipsum ".repeat(8500) } };
  assert.ok(countPromptTokens(messages, [big]) - bare > 8500, "a 100 KB tools array is counted, not sent for free");
});

test("what the tokenizer remembers of distinct prompt text stays bounded (callers choose that text)", () => {
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as () => void;
  const heapUsed = () => { collect(); collect(); return process.memoryUsage().heapUsed; };
  warmUpTokenizer();
  const before = heapUsed();
  // Words no vocabulary has, each its own piece: the tokenizer's default cache kept 100,000 of them (24 MB).
  const word = (n: number) => ` qz${n.toString(26).replace(/[0-9]/g, (digit) => "klmnopqrst"[Number(digit)]!)}x`;
  for (let start = 0; start < 6 * TOKENIZER_CACHE_PIECES; start += 1000) countTokens(Array.from({ length: 1000 }, (_, i) => word(start + i)).join(""));
  const grown = heapUsed() - before;
  assert.ok(grown < 10 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB`);
});
