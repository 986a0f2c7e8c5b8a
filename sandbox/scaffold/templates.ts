/**
 * The files `mesh new <actor>` writes: a small tenant-owned record store (put/get) with one
 * event, the same shape as every actor in actors/. Rename and reshape from there. It teaches
 * the store's keyed API: every database call is a point read or write by `_id`, and the
 * version counter is built from unique inserts (FerretDB loses concurrent `$inc`s).
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
import { hasCode, MeshError, type WorkContext } from "../../runtime/index.ts";

type Item = z.output<typeof ${n.camel}Contract.requests.get.output>;
type PutInput = z.output<typeof ${n.camel}Contract.requests.put.input>;
type GetInput = z.output<typeof ${n.camel}Contract.requests.get.input>;

export const ITEMS = "items";
/** A put that lost this many races in a row to other writers of the same record gets CONFLICT. */
const MAX_PUT_ATTEMPTS = 32;

// Keys of the store's keyed API (the store makes the _id "<tenant>/<key>"). Ids are
// [a-z0-9-], so "<id>/..." keys of two records never overlap.
const versionKey = (id: string, version: number) => \`\${id}/v/\${String(version).padStart(10, "0")}\`;
const headKey = (id: string) => \`\${id}/head\`;
interface Head { latest: number }

function asItem(doc: Item): Item {
  return { id: doc.id, text: doc.text, version: doc.version, updatedAt: doc.updatedAt };
}

/**
 * The newest version, by point reads only: the head says where to start (it is a hint and may
 * lag behind a put in flight), then each next version is probed until one is missing.
 */
async function latestItem(context: WorkContext, id: string): Promise<Item | null> {
  const versions = context.store.collection<Item>(ITEMS);
  const head = (await context.store.collection<Head>(ITEMS).get(context.tenant, headKey(id)))?.latest ?? 0;
  let newest = head > 0 ? await versions.get(context.tenant, versionKey(id, head)) : null;
  for (;;) {
    const next = await versions.get(context.tenant, versionKey(id, (newest?.version ?? head) + 1));
    if (next === null) return newest;
    newest = next;
  }
}

/**
 * Each put claims the next version with a unique insert: of concurrent writers exactly one
 * gets each version, and a loser reads again and claims the one after. No update is involved,
 * so no write is lost on any server (FerretDB applies \`$inc\` and conditional updates without
 * isolation). Then the head hint moves on and the change event is published.
 */
export async function putItem(input: PutInput, context: WorkContext): Promise<Item> {
  const versions = context.store.collection<Item>(ITEMS);
  for (let attempt = 1; ; attempt++) {
    const current = await latestItem(context, input.id);
    const item: Item = { id: input.id, text: input.text, version: (current?.version ?? 0) + 1, updatedAt: new Date().toISOString() };
    try {
      await versions.insert(context.tenant, versionKey(input.id, item.version), item);
    } catch (error) {
      if (!hasCode(error, "CONFLICT")) throw error;
      if (attempt >= MAX_PUT_ATTEMPTS || context.signal.aborted) {
        throw new MeshError("CONFLICT", \`too many concurrent writers of \${input.id}\`, { cause: error });
      }
      continue; // another writer took this version: read again, claim the next
    }
    // Last writer wins, so two crossing puts may leave the older version here: readers probe past it.
    await context.store.collection<Head>(ITEMS).put(context.tenant, headKey(input.id), { latest: item.version });
    await context.publish(${n.camel}Contract.events.changed, { tenantId: context.tenant, id: item.id, version: item.version }, {
      eventId: \`\${context.tenant}:\${item.id}:\${item.version}\`,
    });
    return item;
  }
}

export async function getItem(input: GetInput, context: WorkContext): Promise<Item> {
  const found = await latestItem(context, input.id);
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
    // Keyed records only (a head and one record per version per id): no index beyond _id.
    [ITEMS]: { tenantOwned: true },
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
| \`${n.actor}.put\` | \`{ id, text }\` | \`{ id, text, version, updatedAt }\` | mutating (honours \`Mw-Idempotency-Key\`); creates or replaces, version + 1; concurrent puts each get their own version |
| \`${n.actor}.get\` | \`{ id }\` | \`{ id, text, version, updatedAt }\` | \`NOT_FOUND\` if the tenant has no such record |

Every request needs the \`Mw-Tenant\` header. Errors: \`BAD_REQUEST\` (schema, headers),
\`NOT_FOUND\`, \`CONFLICT\` (a put that lost 32 races in a row to other writers of the same
record), \`UNAVAILABLE\` (database down), \`OVERLOADED\`.

## Data

Database \`${n.database}\` (prefixed by \`MESHWORK_DB_PREFIX\` when set), reached only through
\`context.store\`. Collection \`items\`, tenant-owned, used only through the store's keyed API
(\`_id = <tenant>/<key>\`), so every database call is a point read or write by \`_id\`, fast on
MongoDB and on FerretDB (which serves no other filter from an index) whatever the number of
tenants and records:

| key | contents | written by |
| --- | --- | --- |
| \`<id>/v/<version, 10 digits>\` | \`id\`, \`text\`, \`version\`, \`updatedAt\` | a unique insert, once per version; every version is kept |
| \`<id>/head\` | \`{ latest }\`: where a read starts | a replace after each put (a hint: it may lag) |

\`get\` reads the head, then the version it names and each next one until one is missing. \`put\`
does the same reads and inserts the next version; if another writer inserted it first (the
unique \`_id\` refuses the second), it reads again and claims the one after. Concurrent puts
therefore all succeed, each with its own version, and none is lost: no \`$inc\` or conditional
update, which FerretDB does not apply atomically under concurrency. The event is published
after the version is stored; if publishing fails the caller gets the error and the version stays.

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
import { ${n.camel}Contract } from "../../protocol/${n.actor}.ts";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ${n.camel}Actor } from "./actor.ts";

const servers = await useTestServers();
await startInProcess(${n.camel}Actor, servers);
const nc = await servers.connectNats();
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

test("20 concurrent puts of one record all succeed, each with its own version, and none is lost", async () => {
  const results = await Promise.all(Array.from({ length: 20 }, (_, n) => client.put({ id: "busy", text: \`writer \${n}\` }, { tenant: "acme" })));
  assert.deepEqual(results.map((item) => item.version).sort((a, b) => a - b), Array.from({ length: 20 }, (_, n) => n + 1));
  const last = results.find((item) => item.version === 20);
  assert.deepEqual(await client.get({ id: "busy" }, { tenant: "acme" }), last);
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
