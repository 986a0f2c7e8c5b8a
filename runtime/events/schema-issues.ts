/** A short, single-line description of zod issues, for error messages and dead-letter reasons. */
interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export function summarizeIssues(issues: readonly Issue[], maxLength = 200): string {
  const text = issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text;
}
