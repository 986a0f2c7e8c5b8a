/**
 * Writes items (ids) in as few round trips as the database allows: one write at a time, each taking
 * every item that arrived within `lingerMs` of the previous write (or `maxBatch`, whichever
 * comes first). A slow or busy database thus gets bigger writes instead of more of them.
 * Items of one write share one promise: nothing is allocated per item but its slot in the batch.
 */
export interface CoalescingOptions {
  readonly maxBatch: number;
  readonly lingerMs: number;
}

export interface CoalescingWriter<T> {
  /** Queues the item; the promise settles when the write that carries it does. */
  add(item: T): Promise<void>;
  /** Items queued or being written. */
  readonly backlog: number;
}

interface Batch<T> {
  readonly items: T[];
  readonly written: Promise<void>;
  settle(error?: unknown): void;
}

function newBatch<T>(): Batch<T> {
  let settle!: (error?: unknown) => void;
  const written = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  return { items: [], written, settle };
}

export function coalescingWriter<T>(write: (items: T[]) => Promise<void>, options: CoalescingOptions): CoalescingWriter<T> {
  const queue: Batch<T>[] = [];
  let queued = 0;
  let running = false;
  let wakeEarly: (() => void) | undefined;

  function linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.lingerMs);
      wakeEarly = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function drain(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      if (queue.length === 1 && queue[0]!.items.length < options.maxBatch) await linger();
      wakeEarly = undefined;
      const batch = queue.shift()!;
      try {
        await write(batch.items);
        batch.settle();
      } catch (error) {
        batch.settle(error ?? new Error("write failed"));
      }
      queued -= batch.items.length;
    }
    running = false;
  }

  return {
    add(item) {
      let batch = queue.at(-1);
      if (!batch || batch.items.length >= options.maxBatch) queue.push((batch = newBatch<T>()));
      batch.items.push(item);
      queued++;
      if (batch.items.length >= options.maxBatch) wakeEarly?.();
      if (!running) void drain();
      return batch.written;
    },
    get backlog() {
      return queued;
    },
  };
}
