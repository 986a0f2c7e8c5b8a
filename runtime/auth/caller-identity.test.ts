import assert from "node:assert/strict";
import { test } from "node:test";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { REQUEST_INFO_HEADER } from "../../protocol/roles.ts";
import { isMeshError } from "../errors.ts";
import { assertMayActFor, callerIdentity, ownerKey, type CallerIdentity } from "./caller-identity.ts";

function withInfo(info: string | undefined) {
  const h = natsHeaders();
  if (info !== undefined) h.set(REQUEST_INFO_HEADER, info);
  return h;
}

const identities: Array<[string, string | undefined, CallerIdentity | "FORBIDDEN"]> = [
  ["no header: a caller inside the mesh account", undefined, { kind: "mesh" }],
  ["a service user", JSON.stringify({ acc: "A1", name_tag: "billing", tags: ["mw-service:billing"] }), { kind: "service", name: "billing" }],
  ["a tenant user", JSON.stringify({ acc: "A2", name_tag: "tenant-acme", tags: ["mw-tenant:acme"] }), { kind: "tenant", name: "tenant-acme", tenant: "acme" }],
  ["a service tag that is not its own name", JSON.stringify({ name_tag: "billing", tags: ["mw-service:admin"] }), "FORBIDDEN"],
  ["another account's user without a mesh identity", JSON.stringify({ acc: "A3", name_tag: "someone" }), "FORBIDDEN"],
  ["unreadable info", "{not json", "FORBIDDEN"],
];

for (const [name, info, expected] of identities) {
  test(`caller identity: ${name}`, () => {
    if (expected === "FORBIDDEN") {
      assert.throws(() => callerIdentity(withInfo(info)), (error: unknown) => isMeshError(error) && error.code === "FORBIDDEN");
    } else {
      assert.deepEqual(callerIdentity(withInfo(info)), expected);
    }
  });
}

test("a tenant-scoped caller acts only as its tenant; mesh and service callers as any", () => {
  const acme: CallerIdentity = { kind: "tenant", name: "tenant-acme", tenant: "acme" };
  assert.doesNotThrow(() => assertMayActFor(acme, "acme"));
  for (const tenant of ["globex", ""]) {
    assert.throws(() => assertMayActFor(acme, tenant), (error: unknown) => isMeshError(error) && error.code === "FORBIDDEN");
  }
  assert.doesNotThrow(() => assertMayActFor({ kind: "service", name: "billing" }, "globex"));
  assert.doesNotThrow(() => assertMayActFor({ kind: "mesh" }, ""));
});

test("owner keys tell callers apart", () => {
  const keys = [{ kind: "mesh" }, { kind: "service", name: "a" }, { kind: "service", name: "b" }, { kind: "tenant", name: "tenant-a", tenant: "a" }]
    .map((caller) => ownerKey(caller as CallerIdentity));
  assert.equal(new Set(keys).size, keys.length);
});
