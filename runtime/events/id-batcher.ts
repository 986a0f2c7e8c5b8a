/**
 * Combines calls that arrive together (same turn of the event loop, or up to `maxBatch`)
 * into one database round trip; every caller gets the outcome for its own id.
 */
export function idBatcher<R>(run: (ids: string[]) => Promise<Map<string, R>>, maxBatch = 128): (id: string) => Promise<R> {
  let pending: Array<{ id: string; resolve(value: R): void; reject(error: unknown): void }> = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const batch = pending;
    pending = [];
    run([...new Set(batch.map((entry) => entry.id))]).then(
      (results) => batch.forEach((entry) => entry.resolve(results.get(entry.id) as R)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  }

  return (id) => new Promise<R>((resolve, reject) => {
    pending.push({ id, resolve, reject });
    if (pending.length >= maxBatch) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
