import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { z } from "zod";
import { MeshError, toMeshError } from "../../runtime/errors.ts";
import { encodeError } from "../../runtime/request/reply-codec.ts";
import { MAX_REPLICAS, ReplicaSupervisor, UnknownActorError } from "./replica-supervisor.ts";
import { REPLICAS_SUBJECT, SCALE_SUBJECT } from "./sandbox-env.ts";

export const ScaleRequest = z.strictObject({
  actor: z.string().min(1).max(64),
  replicas: z.number().int().min(0).max(MAX_REPLICAS),
});

export const ScaleReply = z.object({
  actor: z.string(),
  replicas: z.number().int(),
  ready: z.array(z.string()),
  failed: z.array(z.string()),
});
export type ScaleReply = z.infer<typeof ScaleReply>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function respond(msg: Msg, result: { data: unknown } | { error: MeshError }): void {
  if ("error" in result) {
    const { payload, headers } = encodeError(result.error);
    msg.respond(payload, { headers });
  } else {
    msg.respond(encoder.encode(JSON.stringify(result.data)));
  }
}

async function handleScale(msg: Msg, supervisor: ReplicaSupervisor): Promise<unknown> {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(msg.data));
  } catch {
    throw new MeshError("BAD_REQUEST", "payload is not valid JSON");
  }
  const request = ScaleRequest.safeParse(body);
  if (!request.success) throw new MeshError("BAD_REQUEST", `expected {"actor": string, "replicas": 0..${MAX_REPLICAS}}`);
  try {
    return await supervisor.scale(request.data.actor, request.data.replicas);
  } catch (error) {
    if (error instanceof UnknownActorError) throw new MeshError("NOT_FOUND", error.message);
    throw error;
  }
}

/**
 * The sandbox's control channel on NATS, used by `mesh scale`: a request on `mesh.sandbox.scale`
 * with `{actor, replicas}` is answered once the replicas are up (or drained and gone); errors
 * use the mesh's error reply (`Mw-Error` header). `mesh.sandbox.replicas` answers the supervisor's view.
 */
export function serveControlChannel(nc: NatsConnection, supervisor: ReplicaSupervisor): { stop(): void } {
  const scale = nc.subscribe(SCALE_SUBJECT, {
    callback: (error, msg) => {
      if (error || !msg.reply) return;
      handleScale(msg, supervisor).then(
        (data) => respond(msg, { data }),
        (thrown: unknown) => respond(msg, { error: toMeshError(thrown) }),
      );
    },
  });
  const replicas = nc.subscribe(REPLICAS_SUBJECT, {
    callback: (error, msg) => {
      if (!error && msg.reply) respond(msg, { data: supervisor.view() });
    },
  });
  return {
    stop() {
      scale.unsubscribe();
      replicas.unsubscribe();
    },
  };
}
