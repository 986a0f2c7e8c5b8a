/**
 * The bench's baseline replica: one Moleculer 0.15 service node with its validator
 * (fastest-validator), on NATS, answering `bench-tenants.get` with a tenant policy held in
 * memory. It has no database client, so it is the framework's floor, not the same workload as
 * the tenants actor. Compiled like the actors (scenario-replicas.ts) and run with plain node;
 * prints "moleculer node ready" once the broker has started.
 */
import { readFileSync } from "node:fs";
import moleculer from "moleculer";
import { credsAuthenticator } from "nats";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
// Authentication is on wherever the mesh runs: the bench hands this node the operator's creds.
const credsFile = process.env.NATS_CREDS;
const policies = new Map<string, { tenant: string; version: number; maxPromptTokens: number; allowedModels: string[] }>();

const broker = new moleculer.ServiceBroker({
  nodeID: `bench-moleculer-${process.pid}`,
  transporter: { type: "NATS", options: { url: natsUrl, ...(credsFile ? { authenticator: credsAuthenticator(readFileSync(credsFile)) } : {}) } },
  logger: false,
  validator: true,
});

broker.createService({
  name: "bench-tenants",
  actions: {
    get: {
      params: { tenant: { type: "string", pattern: /^[a-z0-9-]{1,64}$/ } },
      handler(ctx: { params: { tenant: string } }) {
        const { tenant } = ctx.params;
        let policy = policies.get(tenant);
        if (!policy) {
          policy = { tenant, version: 1, maxPromptTokens: 8000, allowedModels: ["gpt-4o-mini"] };
          policies.set(tenant, policy);
        }
        return policy;
      },
    },
  },
});

await broker.start();
process.stdout.write("moleculer node ready\n");
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    broker.stop().then(() => process.exit(0), () => process.exit(1));
  });
}
