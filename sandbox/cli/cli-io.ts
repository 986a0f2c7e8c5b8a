import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where a command writes and what it reads; the entry passes the real process, tests their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  /** The checkout `mesh new` and `mesh check` work on, and whose .meshwork/ holds sandbox.env. */
  readonly root: string;
}

/** The checkout this CLI lives in. */
export const CHECKOUT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    root: CHECKOUT_ROOT,
  };
}

/** A failure the user can act on: the message is printed as is, with this exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}
