/**
 * Keeps a metric label's distinct values bounded. Label values that callers choose (a service
 * name, a model name, a tenant id) would otherwise grow one time series per value without end:
 * memory in every replica and cardinality in Prometheus. The first `limit` values are kept as
 * they are; later new ones are counted together under OTHER_LABEL.
 */
export const OTHER_LABEL = "other";

export class BoundedLabels {
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("a label bound must be a positive integer");
    this.#limit = limit;
  }

  value(label: string): string {
    if (this.#seen.has(label)) return label;
    if (this.#seen.size >= this.#limit) return OTHER_LABEL;
    this.#seen.add(label);
    return label;
  }
}
