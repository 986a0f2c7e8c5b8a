/**
 * Writes ids in as few round trips as the database allows: one write at a time, each taking
 * every id that arrived within `lingerMs` of the previous write (or `maxBatch`, whichever
 * comes first). A slow or busy database thus gets bigger writes instead of more of them.
 * Ids of one write share one promise: nothing is allocated per id but its slot in the batch.
 */
export interface CoalescingOptions {
  readonly maxBatch: number;
  readonly lingerMs: number;
}

export interface CoalescingWriter {
  /** Queues the id; the promise settles when the write that carries it does. */
  add(id: string): Promise<void>;
  /** Ids queued or being written. */
  readonly backlog: number;
}

interface Batch {
  readonly ids: string[];
  readonly written: Promise<void>;
  settle(error?: unknown): void;
}

function newBatch(): Batch {
  let settle!: (error?: unknown) => void;
  const written = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  return { ids: [], written, settle };
}

export function coalescingWriter(write: (ids: string[]) => Promise<void>, options: CoalescingOptions): CoalescingWriter {
  const queue: Batch[] = [];
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
      if (queue.length === 1 && queue[0]!.ids.length < options.maxBatch) await linger();
      wakeEarly = undefined;
      const batch = queue.shift()!;
      try {
        await write([...new Set(batch.ids)]);
        batch.settle();
      } catch (error) {
        batch.settle(error ?? new Error("write failed"));
      }
      queued -= batch.ids.length;
    }
    running = false;
  }

  return {
    add(id) {
      let batch = queue.at(-1);
      if (!batch || batch.ids.length >= options.maxBatch) queue.push((batch = newBatch()));
      batch.ids.push(id);
      queued++;
      if (batch.ids.length >= options.maxBatch) wakeEarly?.();
      if (!running) void drain();
      return batch.written;
    },
    get backlog() {
      return queued;
    },
  };
}
