import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { exampleProblem, examplesIn, projectExamples } from "./doc-examples.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

test("every request example in the docs and in protocol/ comments names a subject and a body its contract accepts", async () => {
  const examples = await projectExamples(ROOT);
  assert.ok(examples.length >= 5, `found only ${examples.length} examples: the extractor broke`);
  const problems = examples.flatMap((example) => {
    const problem = exampleProblem(example);
    return problem ? [`${example.file}:${example.line} ${example.subject} '${example.body}': ${problem}`] : [];
  });
  assert.deepEqual(problems, []);
});

test("the checker refuses what a caller's request would be refused for", () => {
  const check = (line: string) => {
    const [example] = examplesIn("doc.md", line);
    assert.ok(example, `no example found in ${line}`);
    return exampleProblem(example);
  };
  assert.equal(check(`nats req tenants.get '{}' -H Mw-Tenant:acme`), undefined);
  assert.equal(check(`nats --server "$NATS_URL" req tenants.get '{}' -H Mw-Tenant:acme`), undefined);
  assert.equal(check(`npx mesh req tenants.get '{}' --tenant acme`), undefined);
  assert.match(check(`nats req tenants.get '{"tenantId":"acme"}' -H Mw-Tenant:acme`) ?? "", /refused/);
  assert.match(check(`nats req tenants.get '{}'`) ?? "", /no tenant/);
  assert.match(check(`nats req tenants.list '{}' -H Mw-Tenant:acme`) ?? "", /not a request subject/);
  assert.match(check(`nats req usage.report '{from:1}' -H Mw-Tenant:acme`) ?? "", /not JSON/);
});
