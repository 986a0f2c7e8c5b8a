/** The sections every actor README has, in the template's order. */
export const README_SECTIONS = ["Subjects", "Data", "Events", "Limits"] as const;

/** What is missing from an actor's README: a section heading, or a subject of its contract. */
export function readmeViolations(readme: string, subjects: readonly string[]): string[] {
  const violations: string[] = [];
  for (const section of README_SECTIONS) {
    if (!new RegExp(`^#{1,6}\\s+${section}\\b`, "im").test(readme)) violations.push(`README.md has no "${section}" section`);
  }
  for (const subject of subjects) {
    if (!readme.includes(subject)) violations.push(`README.md does not mention subject ${subject}`);
  }
  return violations;
}
