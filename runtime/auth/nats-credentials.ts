/**
 * Connection options for a user's `.creds` file (user JWT and nkey seed, as `mesh creds` and
 * `nsc` write them): the authenticator, and the inbox prefix its permissions allow.
 */
import { readFileSync } from "node:fs";
import { credsAuthenticator, type ConnectionOptions } from "@nats-io/nats-core";
import { decode } from "@nats-io/jwt";
import { inboxPrefixFor } from "./permissions.ts";

export type NatsAuthOptions = Pick<ConnectionOptions, "authenticator" | "inboxPrefix">;

const JWT_BLOCK = /-----BEGIN NATS USER JWT-----\s*\n\s*(\S+)\s*\n/;

/** The user name signed into a creds file (it names the user's inbox prefix). */
export function credsUserName(creds: string): string {
  const token = JWT_BLOCK.exec(creds)?.[1];
  if (!token) throw new Error("not a NATS creds file: no user JWT");
  const name = decode<unknown>(token).name;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`creds user name ${JSON.stringify(name)} cannot prefix an inbox`);
  return name;
}

/** Reads the creds file once; the authenticator re-reads it on reconnect, so a rotated file takes effect. */
export function natsAuthFromCreds(credsFile: string): NatsAuthOptions {
  const name = credsUserName(readFileSync(credsFile, "utf8"));
  return { authenticator: credsAuthenticator(() => readFileSync(credsFile)), inboxPrefix: inboxPrefixFor(name) };
}
