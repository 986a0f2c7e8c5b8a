/**
 * MongoDB users for compose.yaml: a root password and one user per actor whose only role is
 * `readWrite` on the actor's own database. Writes `mongo-init.js` (run once by the mongo image
 * on an empty data volume), `mongo-root.password`, and `mongo-<actor>.env` (the actor's
 * MONGO_URL). Passwords are kept under `keys/`, so re-issuing changes nothing already deployed.
 * FerretDB 1.24 (the local fallback) implements no roles, so none of this applies to it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { databaseNameFor } from "../../runtime/store/index.ts";

export interface MongoUsersOptions {
  /** Host and port the actors reach MongoDB at (compose: the `mongo` service). */
  readonly host?: string;
}

function password(dir: string, name: string): string {
  const file = join(dir, "keys", `mongo-${name}.password`);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const value = randomBytes(24).toString("base64url");
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

export function issueMongoUsers(dir: string, actors: readonly string[], { host = "mongo:27017" }: MongoUsersOptions = {}): void {
  const users = actors.map((actor) => ({ actor, database: databaseNameFor(actor, undefined), password: password(dir, actor) }));
  const root = password(dir, "root");
  writeFileSync(join(dir, "mongo-root.password"), `${root}\n`, { mode: 0o600 });
  const statements = users.map(({ actor, database, password: secret }) =>
    `db.getSiblingDB(${JSON.stringify(database)}).createUser({ user: ${JSON.stringify(actor)}, pwd: ${JSON.stringify(secret)}, roles: [{ role: "readWrite", db: ${JSON.stringify(database)} }] });`);
  writeFileSync(join(dir, "mongo-init.js"), `// Written by \`mesh creds\`: one user per actor, limited to its own database.\n${statements.join("\n")}\n`, { mode: 0o644 });
  for (const { actor, database, password: secret } of users) {
    const url = `mongodb://${encodeURIComponent(actor)}:${encodeURIComponent(secret)}@${host}/${database}?authSource=${database}`;
    writeFileSync(join(dir, `mongo-${actor}.env`), `MONGO_URL=${url}\n`, { mode: 0o600 });
  }
}
