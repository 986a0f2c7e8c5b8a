import type { DashboardState } from "./dashboard.ts";
import { renderDashboard, renderPlainLine } from "./dashboard.ts";

export interface LiveViewOptions {
  readonly stream?: NodeJS.WriteStream;
  /** Redraw period on a terminal. */
  readonly redrawMs?: number;
  /** Period of the plain lines printed when the output is not a terminal. */
  readonly plainEveryMs?: number;
}

/**
 * Shows the dashboard: redrawn in place on a terminal (cursor home, each line cleared), or as
 * one plain line every few seconds when the output is a pipe or a file.
 */
export function startLiveView(state: () => DashboardState, options: LiveViewOptions = {}): { note(line: string): void; stop(): void } {
  const stream = options.stream ?? process.stdout;
  const tty = stream.isTTY === true;
  const draw = () => {
    if (tty) {
      const width = stream.columns || 120;
      const lines = renderDashboard(state()).map((line) => `${line.slice(0, width - 1)}\x1b[K`);
      stream.write(`\x1b[H${lines.join("\n")}\n\x1b[J`);
    } else {
      stream.write(`${renderPlainLine(state())}\n`);
    }
  };
  if (tty) stream.write("\x1b[?25l\x1b[2J");
  const timer = setInterval(draw, tty ? options.redrawMs ?? 1000 : options.plainEveryMs ?? 5000);
  return {
    /** Things that happen (a crash, a scale): on a terminal the dashboard lists them; otherwise printed at once. */
    note(line: string) {
      if (!tty) stream.write(`${line}\n`);
    },
    stop() {
      clearInterval(timer);
      if (tty) {
        draw();
        stream.write("\x1b[?25h\n");
      }
    },
  };
}
