import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeText, tokenizer } from "./tokens.ts";

const TEXTS = [
  "",
  "Bench question 1234567: summarise the quarterly report in two sentences.",
  "reply:0a1b2c3d4e5f alpha report quarterly  summary\tgrowth\n\nmargin",
  "x   y", "a 1", "   leading and trailing   ", "\r\n\r\nCRLF lines\r\n", " \n \n", "tabs\t\t\tand  spaces ",
  "They'll say it's fine; we'VE DONE it, haven't we? I'M sure.",
  "numbers 1 12 123 1234 12345 3.14159 -42 1,000,000",
  "ÜBER naïve café ñandú — “quotes” … emoji 👩‍💻🚀 and 漢字かなカナ 한국어",
  "combining e\u0301 and a\u0308 marks; zero\u200bwidth",
  "special text <|endoftext|> and <|im_start|>user is plain text here",
  "path/to/file.ts:12 {\"json\": [1, 2, {\"k\": null}]} <tag attr='v'/>",
  "word".repeat(40) + " " + "9".repeat(50) + " " + "!".repeat(45),
];

test("the tokens are js-tiktoken's own for the whole text, however the pieces were kept", () => {
  for (let pass = 0; pass < 2; pass++) {
    for (const text of TEXTS) {
      assert.deepEqual(encodeText(text), tokenizer().encode(text, [], []), `pass ${pass}: ${JSON.stringify(text)}`);
    }
  }
  const mixed = TEXTS.join(" ");
  assert.deepEqual(encodeText(mixed), tokenizer().encode(mixed, [], []), "pieces seen in other texts, met again in one long text");
});
