import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { callViolations } from "./call-rules.ts";

const root = "/project";
const protocolDir = join(root, "protocol");
const contracts = new Map([tenantsContract, aiCapacityContract, llmContract, usageContract].map((contract) => [contract.actor, contract] as const));
const file = (source: string) => [{ shown: "handler.ts", path: join(root, "actors", "usage", "handler.ts"), source }];
const usage = (calls: readonly { actor: string }[] = [], roles: readonly string[] = []) => ({ name: "usage", calls, roles });

const cases: Array<{ name: string; source: string; definition: ReturnType<typeof usage>; expected: string[] }> = [
  {
    name: "a request through an imported contract that is not declared",
    source: `import { tenantsContract } from "../../protocol/tenants.ts";\nawait context.mesh.request(tenantsContract.requests.get, {});`,
    definition: usage(),
    expected: ["handler.ts calls tenants.get but the definition does not declare tenants in calls"],
  },
  {
    name: "the same call, declared",
    source: `import { tenantsContract } from "../../protocol/tenants.ts";\nawait context.mesh.request(tenantsContract.requests.get, {});`,
    definition: usage([tenantsContract]),
    expected: [],
  },
  {
    name: "a privileged subject without its role",
    source: `import { aiCapacityContract as capacity } from "../../protocol/ai-capacity.ts";\nawait context.mesh.request(capacity.requests.settle, input);`,
    definition: usage([aiCapacityContract]),
    expected: ["handler.ts calls ai-capacity.settle, which needs the role lease-holder the definition does not hold"],
  },
  {
    name: "a typed call through context.call, not declared",
    source: `import { tenantsContract } from "../../protocol/tenants.ts";\nawait context.call(tenantsContract).get({});`,
    definition: usage(),
    expected: ["handler.ts calls tenants.get but the definition does not declare tenants in calls"],
  },
  {
    name: "context.call of a privileged verb without its role",
    source: `import { aiCapacityContract } from "../../protocol/ai-capacity.ts";\nawait context.call(aiCapacityContract).settle(input);`,
    definition: usage([aiCapacityContract]),
    expected: ["handler.ts calls ai-capacity.settle, which needs the role lease-holder the definition does not hold"],
  },
  {
    name: "context.call of a declared actor's open verb",
    source: `import { aiCapacityContract } from "../../protocol/ai-capacity.ts";\nawait context.call(aiCapacityContract).status({});`,
    definition: usage([aiCapacityContract]),
    expected: [],
  },
  {
    name: "a subject written as a string",
    source: `await client.requestBytes("llm.complete", payload);`,
    definition: usage(),
    expected: ["handler.ts calls llm.complete but the definition does not declare llm in calls"],
  },
  {
    name: "the tenant policy cache calls tenants.get",
    source: `const policies = createTenantPolicyCache(1000);`,
    definition: usage(),
    expected: ["handler.ts calls tenants.get but the definition does not declare tenants in calls"],
  },
  {
    name: "a whole contract handed to actorClient",
    source: `import { llmContract } from "../../protocol/llm.ts";\nconst llm = actorClient(mesh, llmContract);`,
    definition: usage(),
    expected: ["handler.ts calls llm.complete but the definition does not declare llm in calls"],
  },
  {
    name: "type-only imports and the actor's own contract are no calls",
    source: `import type { tenantsContract } from "../../protocol/tenants.ts";\nimport { usageContract } from "../../protocol/usage.ts";\ntype Q = typeof usageContract.requests.report;`,
    definition: usage(),
    expected: [],
  },
];

for (const { name, source, definition, expected } of cases) {
  test(`mesh check, calls: ${name}`, () => {
    assert.deepEqual(callViolations(file(source), definition, contracts, protocolDir), expected);
  });
}
