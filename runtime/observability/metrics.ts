import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one actor process. Label sets are small and fixed. */
export class ActorMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"subject" | "code">;
  readonly latency: Histogram<"subject">;
  readonly inFlight: Gauge;
  readonly events: Counter<"consumer" | "outcome">;
  readonly consumerPending: Gauge<"consumer">;
  readonly consumerAckPending: Gauge<"consumer">;
  readonly aiTokens: Counter<"tenant" | "service" | "model" | "kind">;
  readonly aiCost: Counter<"tenant" | "service" | "model">;
  #inFlightSource: () => number = () => 0;

  /** Where the in-flight gauge reads its value when scraped. */
  readInFlightFrom(source: () => number): void {
    this.#inFlightSource = source;
  }

  constructor(actor: string, instance: string) {
    this.registry.setDefaultLabels({ actor, instance });
    const registers = [this.registry];
    this.requests = new Counter({ name: "mesh_requests_total", help: "Requests handled, by reply code (OK for success)", labelNames: ["subject", "code"], registers });
    this.latency = new Histogram({
      name: "mesh_request_duration_seconds", help: "Request handling time", labelNames: ["subject"], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    const metrics = this;
    // Read at scrape time rather than counted up and down on every request.
    this.inFlight = new Gauge({ name: "mesh_requests_in_flight", help: "Requests being handled or queued now", registers, collect() { this.set(metrics.#inFlightSource()); } });
    this.events = new Counter({ name: "mesh_events_total", help: "Event deliveries by outcome", labelNames: ["consumer", "outcome"], registers });
    this.consumerPending = new Gauge({ name: "mesh_consumer_pending", help: "Events not yet delivered (consumer lag)", labelNames: ["consumer"], registers });
    this.consumerAckPending = new Gauge({ name: "mesh_consumer_ack_pending", help: "Events delivered and not yet acknowledged", labelNames: ["consumer"], registers });
    this.aiTokens = new Counter({ name: "mesh_ai_tokens_total", help: "AI tokens used", labelNames: ["tenant", "service", "model", "kind"], registers });
    this.aiCost = new Counter({ name: "mesh_ai_cost_usd_total", help: "AI cost in US dollars", labelNames: ["tenant", "service", "model"], registers });
  }
}
