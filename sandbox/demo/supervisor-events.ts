import { readFile } from "node:fs/promises";
import type { SupervisorEvent } from "../supervisor/replica-supervisor.ts";

/** A line for the operator about a replica's life, or undefined for routine steps. */
export function describeEvent(event: SupervisorEvent): string | undefined {
  const time = new Date().toTimeString().slice(0, 8);
  switch (event.type) {
    case "starting":
      return undefined;
    case "ready":
      return `${time} ${event.instanceId} ready after ${(event.afterMs / 1000).toFixed(1)}s`;
    case "not-ready":
      return `${time} ${event.instanceId} did not answer in time; see ${event.logFile}`;
    case "crashed":
      return `${time} ${event.instanceId} exited (code ${event.exitCode}); restarting in ${(event.restartInMs / 1000).toFixed(1)}s; see ${event.logFile}`;
    case "stopped":
      return `${time} ${event.instanceId} drained and stopped`;
  }
}

/** The last lines of a replica's log, for the message about an actor that did not start. */
export async function logTail(path: string, lines = 12): Promise<string[]> {
  try {
    return (await readFile(path, "utf8")).trimEnd().split("\n").slice(-lines);
  } catch {
    return [`(no log at ${path})`];
  }
}
