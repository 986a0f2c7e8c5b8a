/**
 * The files `mesh new <actor>` writes: a small tenant-owned record store (put/get) with one
 * event, the same shape as every actor in actors/. Rename and reshape from there.
 */
import type { ActorNames } from "./names.ts";

export function protocolTemplate(n: ActorNames): string {
  return `import { z } from "zod";
import { defineContract } from "./contract.ts";

/** One record kept by the ${n.actor} actor, owned by a tenant. */
export const ${n.pascal}Item = z.object({
  id: z.string(),
  text: z.string(),
  version: z.number().int().positive(),
  updatedAt: z.string(),
});

export const Put${n.pascal}ItemRequest = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "lower-case letters, digits and dashes, at most 64"),
  text: z.string().min(1).max(10_000),
});

export const Get${n.pascal}ItemRequest = z.strictObject({
  id: z.string().min(1).max(64),
});

export const ${n.pascal}ItemChanged = z.object({
  tenantId: z.string(),
  id: z.string(),
  version: z.number().int().positive(),
});

export const ${n.camel}Contract = defineContract({
  actor: "${n.actor}",
  requests: {
    /** Creates or replaces a record; each write increments its version. */
    put: { subject: "${n.actor}.put", input: Put${n.pascal}ItemRequest, output: ${n.pascal}Item, mutating: true },
    /** The caller tenant's record; NOT_FOUND if it has none with this id. */
    get: { subject: "${n.actor}.get", input: Get${n.pascal}ItemRequest, output: ${n.pascal}Item },
  },
  events: {
    changed: { subject: "events.${n.actor}.changed", schema: ${n.pascal}ItemChanged },
  },
});
`;
}

export function handlersTemplate(n: ActorNames): string {
  return `import type { z } from "zod";
import { ${n.camel}Contract } from "../../protocol/${n.actor}.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";

type Item = z.output<typeof ${n.camel}Contract.requests.get.output>;
type PutInput = z.output<typeof ${n.camel}Contract.requests.put.input>;
type GetInput = z.output<typeof ${n.camel}Contract.requests.get.input>;

export const ITEMS = "items";

function asItem(doc: Item): Item {
  return { id: doc.id, text: doc.text, version: doc.version, updatedAt: doc.updatedAt };
}

/** One atomic upsert per write (no read-modify-write), then the change event. */
export async function putItem(input: PutInput, context: WorkContext): Promise<Item> {
  const stored = await context.store.collection<Item>(ITEMS).findOneAndUpdate(
    context.tenant,
    { id: input.id },
    { $set: { text: input.text, updatedAt: new Date().toISOString() }, $inc: { version: 1 } },
    { upsert: true },
  );
  if (!stored) throw new MeshError("INTERNAL", "the record was not stored");
  const item = asItem(stored);
  await context.publish(${n.camel}Contract.events.changed, { tenantId: context.tenant, id: item.id, version: item.version }, {
    eventId: \`\${context.tenant}:\${item.id}:\${item.version}\`,
  });
  return item;
}

export async function getItem(input: GetInput, context: WorkContext): Promise<Item> {
  const found = await context.store.collection<Item>(ITEMS).findOne(context.tenant, { id: input.id });
  if (!found) throw new MeshError("NOT_FOUND", \`no record \${input.id}\`);
  return asItem(found);
}
`;
}

export function actorTemplate(n: ActorNames): string {
  return `import { ${n.camel}Contract } from "../../protocol/${n.actor}.ts";
import { defineActor } from "../../runtime/index.ts";
import { getItem, ITEMS, putItem } from "./handlers.ts";

/** Keeps small text records per tenant. (Scaffolded by \`mesh new ${n.actor}\`: describe what it is for.) */
export const ${n.camel}Actor = defineActor({
  name: "${n.actor}",
  version: "0.1.0",
  description: "Small text records per tenant",
  contract: ${n.camel}Contract,
  collections: {
    [ITEMS]: { tenantOwned: true, indexes: [{ key: { tenant: 1, id: 1 }, unique: true, name: "one_record_per_id" }] },
  },
  handlers: { put: putItem, get: getItem },
  limits: { maxInFlight: 64 },
});
`;
}

export function readmeTemplate(n: ActorNames): string {
  return `# ${n.actor}

Keeps small text records per tenant. (Scaffolded by \`mesh new ${n.actor}\`: say here what this
actor is for, who calls it and what it must never do.) The contract is in \`protocol/${n.actor}.ts\`.

## Subjects

| subject | input | output | notes |
| --- | --- | --- | --- |
| \`${n.actor}.put\` | \`{ id, text }\` | \`{ id, text, version, updatedAt }\` | mutating (honours \`Mw-Idempotency-Key\`); creates or replaces, version + 1 |
| \`${n.actor}.get\` | \`{ id }\` | \`{ id, text, version, updatedAt }\` | \`NOT_FOUND\` if the tenant has no such record |

Every request needs the \`Mw-Tenant\` header. Errors: \`BAD_REQUEST\` (schema, headers),
\`NOT_FOUND\`, \`UNAVAILABLE\` (database down), \`OVERLOADED\`.

## Data

Database \`${n.database}\` (prefixed by \`MESHWORK_DB_PREFIX\` when set), reached only through
\`context.store\`. Collection \`items\`, tenant-owned: one document per tenant and id (unique
index on \`tenant, id\`) with \`text\`, \`version\`, \`updatedAt\`.

## Events

| subject | payload | id |
| --- | --- | --- |
| \`events.${n.actor}.changed\` | \`{ tenantId, id, version }\` | \`<tenant>:<id>:<version>\` |

Stream \`EVENTS_${n.database.toUpperCase()}\`. Consumes no events.

## Limits

64 requests in flight per replica (then \`OVERLOADED\`), 256 KiB payloads, 5 s default deadline,
text up to 10,000 characters. Stateless: scale with \`mesh scale ${n.actor} N\`.
`;
}

export function testTemplate(n: ActorNames): string {
  return `import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { ${n.camel}Contract } from "../../protocol/${n.actor}.ts";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ${n.camel}Actor } from "./actor.ts";

const servers = await useTestServers();
await startInProcess(${n.camel}Actor, servers);
const nc = await connect({ servers: servers.natsUrl });
const mesh = new MeshClient(nc, { maxAttempts: 1 });
const client = actorClient(mesh, ${n.camel}Contract);
after(async () => {
  mesh.close();
  await nc.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : String(error)));
}

test("put stores a record that get returns, and each put increments the version", async () => {
  const first = await client.put({ id: "first", text: "hello" }, { tenant: "acme" });
  assert.equal(first.version, 1);
  const second = await client.put({ id: "first", text: "hello again" }, { tenant: "acme" });
  assert.equal(second.version, 2);
  assert.deepEqual(await client.get({ id: "first" }, { tenant: "acme" }), second);
});

test("a tenant never sees another tenant's records", async () => {
  await client.put({ id: "private", text: "acme only" }, { tenant: "acme" });
  assert.equal(await codeOf(client.get({ id: "private" }, { tenant: "globex" })), "NOT_FOUND");
});

test("bad input gets BAD_REQUEST: wrong types, unknown fields, a bad id, no tenant", async () => {
  for (const input of [{ id: 42, text: "x" }, { id: "ok", text: "x", extra: true }, { id: "Not OK!", text: "x" }, { id: "ok", text: "" }]) {
    assert.equal(await codeOf(client.put(input as never, { tenant: "acme" })), "BAD_REQUEST", JSON.stringify(input));
  }
  assert.equal(await codeOf(client.get({ id: "first" })), "BAD_REQUEST");
});
`;
}
