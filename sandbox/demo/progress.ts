/** Runs one named step of the start-up; `update` refines what the step is doing right now. */
export type StepRunner = <T>(label: string, work: (update: (detail: string) => void) => Promise<T>) => Promise<T>;

/** Runs the work and reports nothing. */
export const silentSteps: StepRunner = (_label, work) => work(() => {});

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Steps shorter than this print only their result line. */
const QUIET_MS = 1000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A progress indicator for steps that take more than a second: a spinner with the step's latest
 * detail on a terminal, a plain "still working" line otherwise; then one line with the outcome.
 */
export function consoleSteps(stream: NodeJS.WriteStream = process.stderr): StepRunner {
  return async (label, work) => {
    const started = Date.now();
    let detail = "";
    let frame = 0;
    let announced = false;
    const tick = setInterval(() => {
      const elapsed = Date.now() - started;
      if (elapsed < QUIET_MS) return;
      if (stream.isTTY) {
        frame = (frame + 1) % FRAMES.length;
        stream.write(`\r\x1b[K${FRAMES[frame]} ${label}${detail ? `: ${detail}` : ""} (${seconds(elapsed)})`);
      } else if (!announced) {
        announced = true;
        stream.write(`… ${label}${detail ? `: ${detail}` : ""}\n`);
      }
    }, 100);
    const clear = () => {
      clearInterval(tick);
      if (stream.isTTY) stream.write("\r\x1b[K");
    };
    try {
      const result = await work((next) => {
        detail = next;
      });
      clear();
      stream.write(`✓ ${label}${detail ? `: ${detail}` : ""} (${seconds(Date.now() - started)})\n`);
      return result;
    } catch (error) {
      clear();
      stream.write(`✗ ${label}: ${error instanceof Error ? error.message : String(error)}\n`);
      throw error;
    }
  };
}
