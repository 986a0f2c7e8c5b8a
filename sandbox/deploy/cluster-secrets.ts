/**
 * The Kubernetes Secrets of deploy/kubernetes, made from a credentials folder that
 * `mesh creds issue` filled: the NATS server's auth config, one creds file per actor, MongoDB's
 * root password, the replica set's key file, the per-actor MongoDB users and URLs (replica set
 * hosts), and the mesh account's public key for KEDA. Read-only on the folder except for the
 * replica set key file, made once and kept beside the other keys.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { databaseNameFor } from "../../runtime/store/mongo-client.ts";
import { KeyStore } from "../creds/key-store.ts";
import { actorCredsFile, MESH_ACCOUNT } from "../creds/identity-plan.ts";
import { SERVER_AUTH_FILE } from "../creds/issue-credentials.ts";
import { actorSecretNames } from "./actor-manifests.ts";

const MONGO_HOSTS = ["mongodb-0.mongodb:27017", "mongodb-1.mongodb:27017", "mongodb-2.mongodb:27017"].join(",");

export class MissingCredentialsError extends Error {}

function read(dir: string, file: string): string {
  const path = join(dir, file);
  if (!existsSync(path)) throw new MissingCredentialsError(`${path} is missing: run \`npx mesh creds issue\` first (with the same --dir)`);
  return readFileSync(path, "utf8");
}

function replicaSetKey(dir: string): string {
  const file = join(dir, "keys", "mongo-replica-set.key");
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(512).toString("base64")}\n`, { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

const secret = (name: string, data: Record<string, string>) => ({
  apiVersion: "v1", kind: "Secret", type: "Opaque",
  metadata: { name, namespace: "meshwork", labels: { "app.kubernetes.io/part-of": "meshwork" } },
  stringData: data,
});

/** Every Secret the manifests read, as YAML documents for `kubectl apply -f -`. */
export function clusterSecrets(dir: string, actors: readonly string[]): string {
  const authConfig = read(dir, SERVER_AUTH_FILE);
  const users = actors.map((actor) => ({ actor, database: databaseNameFor(actor, undefined), password: read(dir, join("keys", `mongo-${actor}.password`)).trim() }));
  // Mongo users created only when missing, so the init Job can run again.
  const usersScript = users.map(({ actor, database, password }) =>
    `if (!db.getSiblingDB(${JSON.stringify(database)}).getUser(${JSON.stringify(actor)})) db.getSiblingDB(${JSON.stringify(database)}).createUser({ user: ${JSON.stringify(actor)}, pwd: ${JSON.stringify(password)}, roles: [{ role: "readWrite", db: ${JSON.stringify(database)} }] });`).join("\n");
  const documents = [
    secret("nats-auth", { "nats-auth.conf": authConfig }),
    secret("keda-nats", { accountID: new KeyStore(dir).get("account", MESH_ACCOUNT).getPublicKey() }),
    secret("mongodb-root", { password: read(dir, "mongo-root.password").trim() }),
    secret("mongodb-keyfile", { keyfile: replicaSetKey(dir) }),
    secret("mongodb-users", { "users.js": `${usersScript}\n` }),
    ...users.flatMap(({ actor, database, password }) => [
      secret(actorSecretNames(actor).natsCreds, { "nats.creds": read(dir, actorCredsFile(actor)) }),
      secret(actorSecretNames(actor).mongo, {
        MONGO_URL: `mongodb://${encodeURIComponent(actor)}:${encodeURIComponent(password)}@${MONGO_HOSTS}/${database}?replicaSet=rs0&authSource=${database}`,
      }),
    ]),
  ];
  return documents.map((document) => `---\n${stringify(document, { lineWidth: 0 })}`).join("");
}
