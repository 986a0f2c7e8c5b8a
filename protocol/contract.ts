import type { z } from "zod";
import type { Role } from "./roles.ts";

/**
 * A request an actor answers: the subject, the input and output schemas, and whether it
 * mutates state (mutating requests honour the idempotency key).
 */
export interface RequestContract<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly input: I;
  readonly output: O;
  readonly mutating?: boolean;
  /** Requests that need no tenant header (for example admin listings). Default false. */
  readonly tenantless?: boolean;
  /**
   * Only callers holding this role may send it (their NATS user is granted the subject only
   * then); absent: every caller that declares the actor in `calls` or is granted it.
   */
  readonly role?: Role;
  /** Tenant accounts import this subject, so a tenant-scoped caller may call it (as its own tenant). */
  readonly tenantFacing?: boolean;
  /**
   * The handler may send chunks before its final reply (the wire form is in protocol/llm.ts,
   * `STREAM_HEADERS`): its actor may answer one request with many messages, and accounts
   * importing the subject receive them all.
   */
  readonly streaming?: boolean;
}

export interface EventContract<S extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly schema: S;
}

/** Everything a caller needs to talk to an actor. Lives in protocol/, imported by both sides. */
export interface ActorContract {
  readonly actor: string;
  readonly requests: Readonly<Record<string, RequestContract>>;
  readonly events: Readonly<Record<string, EventContract>>;
}

export function defineContract<const C extends ActorContract>(contract: C): C {
  return contract;
}

export type RequestInput<R extends RequestContract> = z.input<R["input"]>;
export type RequestOutput<R extends RequestContract> = z.output<R["output"]>;
export type EventPayload<E extends EventContract> = z.output<E["schema"]>;
