/**
 * Signs the identity plan with @nats-io/jwt: the operator JWT, one account JWT per account
 * (exports, imports, JetStream, revocations), one `.creds` file per user, and the server's
 * auth configuration (`nats-auth.conf`: operator, system account, preloaded account JWTs).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode, encodeAccount, encodeOperator, encodeUser, fmtCreds, type Account, type KeyPair, type Operator, type User } from "@nats-io/jwt";
import type { ActorDefinition } from "../../runtime/index.ts";
import type { Grants } from "./grants.ts";
import { MESH_ACCOUNT, SYSTEM_ACCOUNT, planIdentities, type PlannedAccount, type PlannedUser } from "./identity-plan.ts";
import { KeyStore } from "./key-store.ts";

export const SERVER_AUTH_FILE = "nats-auth.conf";
const OPERATOR_NAME = "meshwork";
/** How long a responder may take to answer a request it received (the longest mesh deadline is 5 min). */
const RESPONSE_WINDOW_NS = 6 * 60 * 1e9;
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
const JETSTREAM_UNLIMITED = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

export interface IssuedCredentials {
  readonly dir: string;
  /** Include this file in nats-server's configuration (or pass it with `-c`). */
  readonly serverAuthFile: string;
  /** Creds file of each user, by user name. */
  readonly credsFiles: Readonly<Record<string, string>>;
  /** Public key of each user's current key, by user name. */
  readonly userKeys: Readonly<Record<string, string>>;
}

export function userKeyName(user: PlannedUser): string {
  return user.credsFile.replace(/\.creds$/, "");
}

function accountClaims(account: PlannedAccount, mesh: KeyPair, revocations: Record<string, number>): Partial<Account> {
  return {
    limits: account.jetstream ? { ...UNLIMITED, ...JETSTREAM_UNLIMITED } : UNLIMITED,
    exports: account.exports.map((subject) => ({
      name: subject, subject, type: "service" as const, ...(account.streaming?.includes(subject) ? { response_type: "Stream" as const } : {}),
    })),
    imports: account.imports.map((subject) => ({ name: subject, subject, type: "service" as const, account: mesh.getPublicKey(), share: true })),
    revocations,
  };
}

function userClaims(user: PlannedUser): Partial<User> {
  const claims: Partial<User> = { tags: [...user.tags] };
  if (!user.permissions) return claims;
  return {
    ...claims,
    pub: { allow: [...user.permissions.publish], deny: [] },
    sub: { allow: [...user.permissions.subscribe], deny: [] },
    ...(user.permissions.respond ? { resp: { max: user.permissions.maxResponses ?? 1, ttl: RESPONSE_WINDOW_NS } } : {}),
  };
}

/**
 * The operator JWT is written once and kept: nats-server refuses a configuration reload that
 * changes its trusted operator, and a re-signed JWT (new iat) counts as a change.
 */
async function operatorToken(dir: string, operator: KeyPair, systemAccount: string): Promise<string> {
  const file = join(dir, "keys", "operator.jwt");
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    const claims = decode<Operator>(kept);
    if (claims.sub === operator.getPublicKey() && claims.nats.system_account === systemAccount) return kept;
  }
  const token = await encodeOperator(OPERATOR_NAME, operator, { system_account: systemAccount });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Issues every credential of the mesh into `dir`; keys already there are kept. */
export async function issueCredentials(dir: string, actors: Readonly<Record<string, ActorDefinition>>, grants: Grants): Promise<IssuedCredentials> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const plan = planIdentities(actors, grants);
  const keys = new KeyStore(dir);
  const operator = keys.get("operator", OPERATOR_NAME);
  const mesh = keys.get("account", MESH_ACCOUNT);
  const system = keys.get("account", SYSTEM_ACCOUNT);
  const accountJwts: Record<string, string> = {};
  const accountKeys = new Map<string, KeyPair>();
  for (const account of plan.accounts) {
    const key = keys.get("account", account.name);
    accountKeys.set(account.name, key);
    accountJwts[key.getPublicKey()] = await encodeAccount(account.name, key, accountClaims(account, mesh, grants.revoked), { signer: operator });
  }
  const operatorJwt = await operatorToken(dir, operator, system.getPublicKey());

  const credsFiles: Record<string, string> = {};
  const userKeys: Record<string, string> = {};
  for (const user of plan.users) {
    const userKey = keys.get("user", userKeyName(user));
    const jwt = await encodeUser(user.name, userKey, accountKeys.get(user.account)!, userClaims(user), user.expiresAt === undefined ? {} : { exp: user.expiresAt });
    const file = join(dir, user.credsFile);
    writeFileSync(file, fmtCreds(jwt, userKey), { mode: 0o600 });
    chmodSync(file, 0o600);
    credsFiles[user.name] = file;
    userKeys[user.name] = userKey.getPublicKey();
  }

  const preload = Object.entries(accountJwts).map(([key, jwt]) => `  ${key}: ${jwt}`).join("\n");
  const serverAuthFile = join(dir, SERVER_AUTH_FILE);
  writeFileSync(serverAuthFile, [
    "# Written by `mesh creds`: decentralized JWT auth, every account preloaded (re-issue, then reload the server).",
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    preload,
    "}",
    "",
  ].join("\n"), { mode: 0o600 });
  return { dir, serverAuthFile, credsFiles, userKeys };
}
