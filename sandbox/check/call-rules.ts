/**
 * An actor may send requests only to the actors its definition declares in `calls` (its NATS
 * user is granted nothing else), and privileged subjects only with the role. Found statically in
 * its non-test sources: `<contract>.requests.<verb>` of a contract imported from another actor's
 * `protocol/<actor>.ts`, `context.call(<contract>).<verb>` (a `call(<contract>)` kept in a variable
 * counts as every request of the contract), a whole contract handed to `actorClient`, a subject written as a string,
 * and the tenant policy cache (which calls `tenants.get`).
 */
import { basename, dirname, resolve } from "node:path";
import type { ActorContract } from "../../protocol/contract.ts";

export interface SourceFile {
  /** Shown in violations, relative to the actor's folder. */
  readonly shown: string;
  readonly path: string;
  readonly source: string;
}

export interface DeclaredCalls {
  readonly name: string;
  readonly calls?: readonly { readonly actor: string }[];
  readonly roles?: readonly string[];
}

const NAMED_IMPORT = /\bimport\s+(type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g;

/** Local names bound to other actors' contracts by value imports from protocol/<actor>.ts. */
function contractImports(file: SourceFile, protocolDir: string, contracts: ReadonlyMap<string, ActorContract>): Map<string, ActorContract> {
  const bound = new Map<string, ActorContract>();
  for (const match of file.source.matchAll(NAMED_IMPORT)) {
    if (match[1] || !match[3]!.startsWith(".")) continue;
    const target = resolve(dirname(file.path), match[3]!);
    if (dirname(target) !== protocolDir) continue;
    const contract = contracts.get(basename(target, ".ts"));
    if (!contract) continue;
    for (const part of match[2]!.split(",")) {
      const [imported, local] = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/);
      if (!imported || part.trim().startsWith("type ")) continue;
      bound.set((local ?? imported).trim(), contract);
    }
  }
  return bound;
}

export function callViolations(files: readonly SourceFile[], definition: DeclaredCalls, contracts: ReadonlyMap<string, ActorContract>, protocolDir: string): string[] {
  const declared = new Set((definition.calls ?? []).map((contract) => contract.actor));
  const roles = new Set(definition.roles ?? []);
  const others = [...contracts.values()].filter((contract) => contract.actor !== definition.name);
  const violations = new Set<string>();
  const called = (file: SourceFile, contract: ActorContract, subject: string) => {
    if (contract.actor === definition.name) return; // its own subjects
    if (!declared.has(contract.actor)) violations.add(`${file.shown} calls ${subject} but the definition does not declare ${contract.actor} in calls`);
    const request = Object.values(contract.requests).find((candidate) => candidate.subject === subject);
    if (request?.role && !roles.has(request.role)) violations.add(`${file.shown} calls ${subject}, which needs the role ${request.role} the definition does not hold`);
  };
  for (const file of files) {
    const bound = contractImports(file, protocolDir, contracts);
    for (const match of file.source.matchAll(/\b([\w$]+)\.requests\.([\w$]+)/g)) {
      const contract = bound.get(match[1]!);
      const request = contract?.requests[match[2]!];
      if (contract && request) called(file, contract, request.subject);
    }
    for (const match of file.source.matchAll(/\.call\(\s*([\w$]+)\s*\)(\s*\.\s*([\w$]+))?/g)) {
      const contract = bound.get(match[1]!);
      if (!contract) continue;
      const request = match[3] === undefined ? undefined : contract.requests[match[3]];
      for (const target of request ? [request] : Object.values(contract.requests)) called(file, contract, target.subject);
    }
    for (const match of file.source.matchAll(/\bactorClient\(\s*[\w$.]+\s*,\s*([\w$]+)\s*\)/g)) {
      const contract = bound.get(match[1]!);
      if (contract) for (const request of Object.values(contract.requests)) called(file, contract, request.subject);
    }
    for (const contract of others) {
      for (const request of Object.values(contract.requests)) {
        if (new RegExp(`["'\`]${request.subject.replaceAll(".", "\\.")}["'\`]`).test(file.source)) called(file, contract, request.subject);
      }
    }
    const tenants = contracts.get("tenants");
    if (tenants && definition.name !== "tenants" && /\bcreateTenantPolicyCache\s*\(/.test(file.source)) called(file, tenants, "tenants.get");
  }
  return [...violations];
}
