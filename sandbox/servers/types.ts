export interface RunningServer {
  readonly kind: "nats" | "mongo";
  readonly url: string;
  readonly logFile?: string;
  readonly dataDir?: string;
  readonly monitorUrl?: string;
  /** Stops the server if this process started it; a no-op for servers given by URL. */
  stop(): Promise<void>;
}
