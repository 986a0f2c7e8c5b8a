/**
 * Seeds of the operator, the accounts and the users, one file each under `<dir>/keys/` (mode
 * 0600). Re-issuing keeps them, so credentials already handed out stay valid; rotating a user
 * deletes its seed so the next issue makes a new key.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from "@nats-io/jwt";

export type KeyKind = "operator" | "account" | "user";

const CREATE: Record<KeyKind, () => KeyPair> = { operator: createOperator, account: createAccount, user: createUser };

export class KeyStore {
  readonly #dir: string;

  constructor(credsDir: string) {
    this.#dir = join(credsDir, "keys");
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  #file(kind: KeyKind, name: string): string {
    return join(this.#dir, `${kind}-${name}.nk`);
  }

  /** The stored key, or a new one (stored at once). */
  get(kind: KeyKind, name: string): KeyPair {
    const file = this.#file(kind, name);
    if (existsSync(file)) return fromSeed(new TextEncoder().encode(readFileSync(file, "utf8").trim()));
    const key = CREATE[kind]();
    writeFileSync(file, `${new TextDecoder().decode(key.getSeed())}\n`, { mode: 0o600 });
    return key;
  }

  /** The public key of a stored user key, if there is one. */
  userPublicKey(name: string): string | undefined {
    return existsSync(this.#file("user", name)) ? this.get("user", name).getPublicKey() : undefined;
  }

  forget(kind: KeyKind, name: string): void {
    rmSync(this.#file(kind, name), { force: true });
  }
}
