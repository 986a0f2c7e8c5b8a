/** Per-endpoint counters in the shape the NATS service API reports ($SRV.STATS). */
export class EndpointStats {
  numRequests = 0;
  numErrors = 0;
  lastError = "";
  processingTimeNs = 0;

  constructor(readonly name: string, readonly subject: string, readonly queueGroup: string) {}

  record(durationMs: number, errorCode: string | undefined): void {
    this.numRequests++;
    this.processingTimeNs += Math.round(durationMs * 1e6);
    if (errorCode) {
      this.numErrors++;
      this.lastError = errorCode;
    }
  }
}
