import { Counter, Histogram, Registry } from "prom-client";

/** Requests per route and status, and latency per route, in the gateway's own registry (GET /metrics). */
export function createHttpMetrics() {
  const registry = new Registry();
  const requests = new Counter({ name: "gateway_http_requests_total", help: "HTTP requests by route, method and status", labelNames: ["route", "method", "status"], registers: [registry] });
  const latency = new Histogram({
    name: "gateway_http_request_duration_seconds", help: "HTTP request latency by route (to the last byte of the body)", labelNames: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  return {
    registry,
    record(route: string, method: string, status: number, seconds: number): void {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route }, seconds);
    },
  };
}
export type HttpMetrics = ReturnType<typeof createHttpMetrics>;
