/**
 * This process's V8 sampling profiler, on only during a load's measured window (not during
 * start-up or warm-up): pass `start` and `end` as the load's `onWindow`, then read `profile()`.
 */
import { Session } from "node:inspector/promises";

export class WindowProfiler {
  readonly #session: Session;
  #stopped: Promise<{ profile: unknown }> | undefined;

  private constructor(session: Session) {
    this.#session = session;
  }

  static async open(): Promise<WindowProfiler> {
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    return new WindowProfiler(session);
  }

  start = (): void => {
    void this.#session.post("Profiler.start");
  };

  end = (): void => {
    this.#stopped = this.#session.post("Profiler.stop");
  };

  /** The profile of the window; throws if the window never closed. */
  async profile(): Promise<unknown> {
    if (!this.#stopped) throw new Error("the profiler was never stopped");
    return (await this.#stopped).profile;
  }

  close(): void {
    this.#session.disconnect();
  }
}
