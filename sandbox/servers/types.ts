import type { IssuedCredentials } from "../creds/issue-credentials.ts";

export interface RunningServer {
  readonly kind: "nats" | "mongo";
  readonly url: string;
  readonly logFile?: string;
  readonly dataDir?: string;
  readonly monitorUrl?: string;
  /** NATS: the credentials it was configured with (its users' creds files). */
  readonly credentials?: IssuedCredentials;
  /**
   * NATS started here: re-reads its configuration (SIGHUP), so re-issued credentials apply
   * (revoked keys are refused and their connections closed). False when it is not running.
   */
  reload?(): boolean;
  /** Stops the server if this process started it; a no-op for servers given by URL. */
  stop(): Promise<void>;
}
