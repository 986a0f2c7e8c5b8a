import { pino, type Logger, type DestinationStream } from "pino";

/** Paths never written to logs: secrets and prompt/completion text. */
export const REDACTED_PATHS = [
  "apiKey", "*.apiKey", "authorization", "*.authorization", "password", "*.password", "secret", "*.secret",
  "prompt", "*.prompt", "messages", "*.messages", "content", "*.content", "completion", "*.completion",
  "input.messages", "output.content",
];

export function createLogger(options: { actor: string; instance: string; level?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { actor: options.actor, instance: options.instance },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
