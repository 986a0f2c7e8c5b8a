/**
 * Request examples written in the docs and comments (`nats req <subject> '<json>'` and
 * `mesh req <subject> '<json>'`): a doc is a promise, so each one must name a real subject and
 * carry a body its contract accepts.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { RequestContract } from "../../protocol/contract.ts";
import { aiCapacityContract, llmContract, tenantsContract, usageContract } from "../../protocol/index.ts";

export interface DocExample {
  readonly file: string;
  readonly line: number;
  readonly subject: string;
  readonly body: string;
  /** The rest of the command line (headers, flags). */
  readonly rest: string;
}

const EXAMPLE = /\b(?:nats(?: --[a-z-]+(?:[ =]("[^"]*"|\S+))?)* req|mesh req) ([a-z][a-z0-9-]*\.[a-z][a-z0-9-]*) '([^']*)'([^\n`]*)/g;
const SKIPPED_DIRS = new Set(["node_modules", ".git", ".meshwork", "dist"]);

export const CONTRACTS_BY_SUBJECT: ReadonlyMap<string, RequestContract> = new Map(
  [tenantsContract, aiCapacityContract, llmContract, usageContract]
    .flatMap((contract) => Object.values(contract.requests) as RequestContract[])
    .map((request) => [request.subject, request]),
);

export function examplesIn(file: string, text: string): DocExample[] {
  const examples: DocExample[] = [];
  for (const match of text.matchAll(EXAMPLE)) {
    const line = text.slice(0, match.index).split("\n").length;
    examples.push({ file, line, subject: match[2]!, body: match[3]!, rest: match[4]!.trim() });
  }
  return examples;
}

/** Markdown anywhere in the project, and the TypeScript of `protocol/` (its comments are the caller's manual). */
export async function projectExamples(root: string): Promise<DocExample[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(".md") || (relative(root, path).startsWith("protocol") && entry.name.endsWith(".ts"))) files.push(path);
    }
  };
  await walk(root);
  const examples = await Promise.all(files.map(async (file) => examplesIn(relative(root, file), await readFile(file, "utf8"))));
  return examples.flat();
}

/** What is wrong with an example, or undefined when it would be accepted. */
export function exampleProblem(example: DocExample): string | undefined {
  const contract = CONTRACTS_BY_SUBJECT.get(example.subject);
  if (!contract) return `${example.subject} is not a request subject of any actor`;
  let body: unknown;
  try {
    body = JSON.parse(example.body);
  } catch {
    return "the body is not JSON";
  }
  const parsed = contract.input.safeParse(body);
  if (!parsed.success) return `the body is refused: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`;
  const namesTenant = /Mw-Tenant[:=]|--tenant /i.test(example.rest);
  if (!contract.tenantless && !namesTenant) return "no tenant (Mw-Tenant header or --tenant)";
  return undefined;
}
