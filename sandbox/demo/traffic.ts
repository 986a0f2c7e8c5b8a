import type { NatsConnection } from "@nats-io/nats-core";
import OpenAI from "openai";
import { ErrorCode } from "../../protocol/errors.ts";
import type { z } from "zod";
import { aiCapacityContract, CapacityStatus } from "../../protocol/ai-capacity.ts";
import type { RequestContract } from "../../protocol/contract.ts";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract, UsageRow } from "../../protocol/usage.ts";
import { isMeshError, MeshClient } from "../../runtime/index.ts";
import type { DemoTenant } from "./demo-tenants.ts";
import type { Measurements } from "./measurements.ts";

const TOPICS = ["a late delivery", "a refund for a broken kettle", "changing the billing address", "an invoice in euros", "a password reset", "the API rate limits", "exporting a report", "a duplicate charge"];
const FAQ = ["What are your opening hours?", "How do I reset my password?", "Where is my invoice?", "How do I cancel my plan?"];

type Call = (mesh: Caller, tenant: DemoTenant, tick: number, edge: EdgeClients) => Promise<void>;

/** The openai SDK pointed at the gateway with each tenant's demo key. */
type EdgeClients = ReadonlyMap<string, OpenAI>;

interface ServiceSpec {
  readonly name: string;
  /** Actors the service calls; it runs only when all of them are in the sandbox. */
  readonly needs: readonly string[];
  readonly everyMs: number;
  readonly call: Call;
}

/** One simulated service's view of the mesh: typed calls that are measured as they go. */
interface Caller {
  request<R extends RequestContract>(contract: R, input: z.input<R["input"]>, tenant: DemoTenant, timeoutMs?: number): Promise<z.output<R["output"]> | undefined>;
}

export type CapacityReading = z.output<typeof CapacityStatus>;
export type UsageReading = z.output<typeof UsageRow>;

export interface LatestReadings {
  capacity(tenant: string): CapacityReading | undefined;
  usage(tenant: string): UsageReading | undefined;
}

function services(latest: { capacity: Map<string, CapacityReading>; usage: Map<string, UsageReading> }, measurements: Measurements): ServiceSpec[] {
  return [
    {
      name: "support-bot", needs: ["llm"], everyMs: 600,
      async call(mesh, tenant, tick) {
        const topic = TOPICS[tick % TOPICS.length]!;
        const reply = await mesh.request(llmContract.requests.complete, {
          model: "gpt-4o", temperature: 0.7, maxTokens: 48,
          messages: [{ role: "system", content: "You are a concise support agent." }, { role: "user", content: `Ticket ${tick}: help with ${topic}.` }],
        }, tenant, 15_000);
        if (reply) measurements.recordAi(tenant.id, { ...reply.usage, costUsd: reply.costUsd, cached: reply.cached });
      },
    },
    {
      name: "faq-search", needs: ["llm"], everyMs: 900,
      async call(mesh, tenant, tick) {
        // temperature 0 and a small set of questions: repeats are answered from the llm cache
        const reply = await mesh.request(llmContract.requests.complete, {
          model: "gpt-4o-mini", temperature: 0, maxTokens: 32,
          messages: [{ role: "user", content: FAQ[tick % FAQ.length]! }],
        }, tenant, 15_000);
        if (reply) measurements.recordAi(tenant.id, { ...reply.usage, costUsd: reply.costUsd, cached: reply.cached });
      },
    },
    {
      // Through the HTTP edge with the official openai SDK, as an outside customer would call.
      name: "edge-chat", needs: ["gateway", "llm"], everyMs: 1200,
      async call(_mesh, tenant, tick, edge) {
        const client = edge.get(tenant.id);
        if (!client) return;
        const started = performance.now();
        const record = (code: ErrorCode | "OK") => measurements.record({ actor: "gateway", tenant: tenant.id, service: "edge-chat", durationMs: performance.now() - started, code });
        try {
          const completion = await client.chat.completions.create({
            model: "gpt-4o-mini", max_tokens: 32, messages: [{ role: "user", content: `Edge question ${tick}: ${FAQ[tick % FAQ.length]!}` }],
          });
          record("OK");
          const costUsd = (completion as { meshwork?: { costUsd?: number } }).meshwork?.costUsd ?? 0;
          measurements.recordAi(tenant.id, { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0, costUsd, cached: false });
        } catch (error) {
          const code = error instanceof OpenAI.APIError ? ErrorCode.safeParse(error.code) : undefined;
          record(code?.success ? code.data : "UNAVAILABLE");
        }
      },
    },
    {
      name: "admin-portal", needs: ["tenants"], everyMs: 500,
      async call(mesh, tenant) {
        await mesh.request(tenantsContract.requests.get, {}, tenant);
      },
    },
    {
      name: "billing-dashboard", needs: ["usage"], everyMs: 1500,
      async call(mesh, tenant) {
        const report = await mesh.request(usageContract.requests.report, {}, tenant);
        if (report) latest.usage.set(tenant.id, report.total);
      },
    },
    {
      name: "capacity-monitor", needs: ["ai-capacity"], everyMs: 1500,
      async call(mesh, tenant) {
        const status = await mesh.request(aiCapacityContract.requests.status, {}, tenant);
        if (status) latest.capacity.set(tenant.id, status);
      },
    },
  ];
}

export interface DemoTrafficOptions {
  readonly nc: NatsConnection;
  /** Actors running in the sandbox; services needing others stay idle. */
  readonly actors: readonly string[];
  readonly tenants: readonly DemoTenant[];
  readonly measurements: Measurements;
  /** Multiplies every service's request rate (1 = the demo's pace). */
  readonly intensity?: number;
  /** Limit the simulated services to these names. */
  readonly only?: readonly string[];
  /** The sandbox's gateway and demo keys: services calling over HTTP use them. */
  readonly gateway?: { readonly url: string; readonly keys: Readonly<Record<string, string>> } | undefined;
}

export interface DemoTraffic extends LatestReadings {
  readonly services: readonly string[];
  /** Stops sending and waits for the calls in flight. */
  stop(): Promise<void>;
}

/** Per-service cap on calls in flight: a slow mesh makes the demo skip ticks, not pile up. */
const MAX_IN_FLIGHT = 16;

/**
 * Several simulated services calling the mesh at a steady pace, round-robin over the demo
 * tenants, each with its own client (its name travels in Mw-Service). Calls are not retried
 * (maxAttempts 1), so every rejection is seen and counted.
 */
export function startDemoTraffic(options: DemoTrafficOptions): DemoTraffic {
  const { nc, measurements, tenants } = options;
  const latest = { capacity: new Map<string, CapacityReading>(), usage: new Map<string, UsageReading>() };
  const active = services(latest, measurements).filter((s) =>
    s.needs.every((actor) => options.actors.includes(actor)) && (!options.only || options.only.includes(s.name)));
  const inFlight = new Set<Promise<void>>();
  const edge: EdgeClients = new Map(Object.entries(options.gateway?.keys ?? {}).map(([tenant, apiKey]) =>
    [tenant, new OpenAI({ baseURL: `${options.gateway!.url}/v1`, apiKey, maxRetries: 0, timeout: 15_000 })]));
  const clients: MeshClient[] = [];
  const timers = active.map((service) => {
    const client = new MeshClient(nc, { service: service.name, maxAttempts: 1 });
    clients.push(client);
    const caller: Caller = {
      async request(contract, input, tenant, timeoutMs = 5000) {
        const started = performance.now();
        const actor = contract.subject.split(".")[0]!;
        try {
          const reply = await client.request(contract, input, { tenant: tenant.id, timeoutMs });
          measurements.record({ actor, tenant: tenant.id, service: service.name, durationMs: performance.now() - started, code: "OK" });
          return reply;
        } catch (error) {
          const code = isMeshError(error) ? error.code : "INTERNAL";
          measurements.record({ actor, tenant: tenant.id, service: service.name, durationMs: performance.now() - started, code });
          return undefined;
        }
      },
    };
    let tick = 0;
    let running = 0;
    return setInterval(() => {
      if (running >= MAX_IN_FLIGHT || tenants.length === 0) return;
      const tenant = tenants[tick % tenants.length]!;
      const call = service.call(caller, tenant, Math.floor(tick / tenants.length), edge);
      tick++;
      running++;
      const settled = call.catch(() => {}).finally(() => {
        running--;
        inFlight.delete(settled);
      });
      inFlight.add(settled);
    }, service.everyMs / (options.intensity ?? 1));
  });
  return {
    services: active.map((s) => s.name),
    capacity: (tenant) => latest.capacity.get(tenant),
    usage: (tenant) => latest.usage.get(tenant),
    async stop() {
      timers.forEach(clearInterval);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      clients.forEach((c) => c.close());
    },
  };
}
