import { isMeshError } from "../../runtime/index.ts";
import { MAX_REPLICAS } from "../supervisor/replica-supervisor.ts";
import { ScaleReply } from "../supervisor/control-channel.ts";
import { SCALE_SUBJECT } from "../supervisor/sandbox-env.ts";
import { MeshClient } from "../../runtime/index.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { withMesh } from "./connection.ts";

/** Starting replicas can take a while on a busy machine; draining removed ones too. */
const SCALE_TIMEOUT_MS = 180_000;

/** `mesh scale <actor> <n>`: asks the running sandbox's supervisor, waits until done. */
export async function scaleCommand(io: CliIo, actor: string, replicasText: string, options: { server?: string }): Promise<number> {
  const replicas = Number(replicasText);
  if (!/^\d+$/.test(replicasText) || replicas > MAX_REPLICAS) throw new CliError(`replicas must be an integer from 0 to ${MAX_REPLICAS}, not "${replicasText}"`, 2);
  return withMesh(io, options.server, async (nc, target) => {
    const client = new MeshClient(nc, { service: "mesh-cli", maxAttempts: 1 });
    try {
      const reply = ScaleReply.parse(await client.requestBytes(SCALE_SUBJECT, new TextEncoder().encode(JSON.stringify({ actor, replicas })), { timeoutMs: SCALE_TIMEOUT_MS }));
      io.out(`${reply.actor}: ${reply.ready.length}/${reply.replicas} replicas ready${reply.ready.length ? ` (${reply.ready.join(", ")})` : ""}\n`);
      if (reply.failed.length) {
        io.err(`${reply.failed.length} did not start: ${reply.failed.join(", ")}; the sandbox keeps restarting them (see .meshwork/logs/${actor}-<n>.log)\n`);
        return 1;
      }
      return 0;
    } catch (error) {
      if (isMeshError(error) && error.code === "UNAVAILABLE" && /no responders/.test(error.message)) {
        throw new CliError(`no sandbox answers on ${SCALE_SUBJECT} at ${target.url}: mesh scale steers the sandbox started by make sandbox (with Docker: docker compose up --scale ${actor}=${replicas})`);
      }
      if (isMeshError(error)) throw new CliError(`${error.code}: ${error.message}`);
      throw error;
    } finally {
      client.close();
    }
  });
}
