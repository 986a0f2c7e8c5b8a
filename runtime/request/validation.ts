import type { z } from "zod";

/** A short, safe summary of schema issues for BAD_REQUEST messages: paths and messages only. */
export function describeIssues(error: z.ZodError, max = 5): string {
  return error.issues
    .slice(0, max)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}
