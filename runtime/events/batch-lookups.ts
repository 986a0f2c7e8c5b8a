/**
 * Combines calls that arrive together (same turn of the event loop, or up to `maxBatch`)
 * into one database round trip; every caller gets the answer at its own position.
 */
export function batchLookups<T, R>(run: (items: T[]) => Promise<R[]>, maxBatch = 128): (item: T) => Promise<R> {
  let pending: Array<{ item: T; resolve(value: R): void; reject(error: unknown): void }> = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const batch = pending;
    pending = [];
    run(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, index) => entry.resolve(results[index] as R)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  }

  return (item) => new Promise<R>((resolve, reject) => {
    pending.push({ item, resolve, reject });
    if (pending.length >= maxBatch) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
