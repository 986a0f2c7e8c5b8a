import { MeshClient } from "../../runtime/index.ts";
import type { Sandbox } from "../supervisor/start-sandbox.ts";
import type { DashboardState } from "./dashboard.ts";
import { DEMO_TENANTS, seedDemoTenants, type DemoTenant } from "./demo-tenants.ts";
import { Measurements } from "./measurements.ts";
import { observeMesh } from "./mesh-observer.ts";
import { startDemoTraffic, type DemoTraffic } from "./traffic.ts";

export interface DemoOptions {
  readonly tenants?: readonly DemoTenant[];
  readonly intensity?: number;
  /** Only these simulated services (default: every one whose actors run). */
  readonly services?: readonly string[];
  /** Supervisor events and other notable lines, newest last, for the dashboard. */
  readonly recentEvents?: () => readonly string[];
}

export interface Demo {
  readonly measurements: Measurements;
  readonly traffic: DemoTraffic;
  state(): DashboardState;
  /** Stops the traffic (waiting for calls in flight) and the observer. */
  stop(): Promise<void>;
}

/** Seeds the demo tenants (when the tenants actor runs) and starts traffic and the mesh observer. */
export async function startDemo(sandbox: Sandbox, options: DemoOptions = {}): Promise<Demo> {
  const tenants = options.tenants ?? DEMO_TENANTS;
  const actors = sandbox.supervisor.actors;
  if (actors.includes("tenants")) {
    const seeder = new MeshClient(sandbox.nc, { service: "sandbox", maxAttempts: 5 });
    try {
      await seedDemoTenants(seeder, tenants);
    } finally {
      seeder.close();
    }
  }
  const measurements = new Measurements();
  const traffic = startDemoTraffic({ nc: sandbox.nc, actors, tenants, measurements, intensity: options.intensity, only: options.services, gateway: sandbox.gateway });
  const observer = observeMesh(sandbox.nc);
  const started = Date.now();
  return {
    measurements,
    traffic,
    state: () => ({
      elapsedMs: Date.now() - started,
      natsUrl: sandbox.natsUrl,
      envFile: sandbox.envFile,
      supervisor: sandbox.supervisor.view(),
      observation: observer.latest(),
      measures: measurements.actors(),
      tenants: tenants.map((tenant) => ({
        tenant, measure: measurements.tenant(tenant.id), capacity: traffic.capacity(tenant.id), usage: traffic.usage(tenant.id),
      })),
      recentEvents: options.recentEvents?.() ?? [],
    }),
    async stop() {
      await traffic.stop();
      await observer.stop();
    },
  };
}
