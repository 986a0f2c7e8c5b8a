import assert from "node:assert/strict";
import { test } from "node:test";
import { meshDefinitions } from "./mesh-credentials.ts";
import { actorPermissions } from "../../runtime/auth/permissions.ts";
import { useTestServers } from "../testing/test-servers.ts";
import { refusedBy } from "./test-support.ts";

const servers = await useTestServers();
const actors = await meshDefinitions();

/** For every actor, what lies just outside its definition: each must be refused by the server. */
const OUTSIDE: Record<string, { publish: string[]; subscribe: Array<[string, string?]> }> = {
  tenants: {
    publish: ["events.llm.usage", "ai-capacity.lease", "$JS.API.STREAM.DELETE.EVENTS_TENANTS"],
    subscribe: [["tenants.get"], ["llm.complete", "llm"], ["_INBOX.llm.x"]],
  },
  "ai-capacity": {
    publish: ["tenants.put", "llm.complete", "events.ai-capacity.forged"],
    subscribe: [["ai-capacity.lease", "other-group"], ["_INBOX.llm.x"]],
  },
  llm: {
    publish: ["tenants.put", "usage.report", "events.tenants.updated", "$JS.API.STREAM.PURGE.EVENTS_LLM"],
    subscribe: [["usage.report", "usage"], ["events.>"]],
  },
  usage: {
    publish: ["ai-capacity.settle", "events.llm.usage", "$JS.API.STREAM.DELETE.EVENTS_LLM", "$JS.API.CONSUMER.MSG.NEXT.EVENTS_LLM.someone-else"],
    subscribe: [["llm.complete"], ["tenants.get", "tenants"]],
  },
  gateway: {
    // A trusted caller with no role: tenant admin, leases and provider signals stay out of reach.
    publish: ["tenants.put", "ai-capacity.lease", "ai-capacity.signal", "events.llm.usage", "gateway.other"],
    subscribe: [["gateway.create-key", "other-group"], ["llm.complete", "llm"], ["_INBOX.llm.x"]],
  },
};

test("the table names every actor of the mesh", () => {
  assert.deepEqual(Object.keys(OUTSIDE).sort(), Object.keys(actors).sort());
});

for (const [name, definition] of Object.entries(actors)) {
  test(`${name}: its own creds allow exactly its definition's subjects, and nothing beside them`, async () => {
    const nc = await servers.connectNats(name);
    const granted = actorPermissions(definition);
    // A concrete subject for each granted pattern (wildcards filled in).
    const concrete = (pattern: string) => pattern.replaceAll(">", "x.y").replaceAll("*", "x");
    const allowedRefusals = await refusedBy(nc, () => {
      for (const entry of granted.subscribe) {
        const [subject, queue] = entry.split(" ");
        nc.subscribe(concrete(subject!), queue ? { queue } : {});
      }
      for (const subject of granted.publish) nc.publish(concrete(subject));
    });
    assert.deepEqual(allowedRefusals, [], "every subject of the definition is usable");
    const outside = OUTSIDE[name]!;
    const refused = await refusedBy(nc, () => {
      for (const [subject, queue] of outside.subscribe) nc.subscribe(subject, queue ? { queue } : {});
      for (const subject of outside.publish) nc.publish(subject);
    });
    assert.deepEqual(refused, [...outside.subscribe.map(([subject]) => `subscription ${subject}`), ...outside.publish.map((subject) => `publish ${subject}`)]);
  });
}

test("the grants follow the definitions: requests in the actor's own queue group, calls only to declared actors, roles only where declared", () => {
  const llm = actorPermissions(actors.llm!);
  assert.ok(llm.subscribe.includes("llm.complete llm"));
  assert.ok(llm.publish.includes("ai-capacity.settle") && llm.publish.includes("ai-capacity.signal"), "llm holds lease-holder and provider-signals");
  assert.ok(!llm.publish.includes("tenants.put"), "no tenant-admin role");
  const usage = actorPermissions(actors.usage!);
  assert.deepEqual(usage.publish.filter((subject) => !subject.startsWith("$JS") && !subject.startsWith("dlq.")).sort(), ["events.usage.budget-warning", "tenants.get"]);
  assert.ok(usage.publish.includes("$JS.API.CONSUMER.MSG.NEXT.EVENTS_LLM.usage--usage"));
});
