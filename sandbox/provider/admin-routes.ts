import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { BehaviourPatch, type BehaviourSnapshot, type BehaviourStore } from "./behaviour.ts";
import { readJsonBody } from "./http-io.ts";
import { invalidRequest } from "./openai-errors.ts";
import type { ProviderStats, StatsCounter } from "./stats.ts";

export interface AdminContext {
  readonly behaviour: BehaviourStore;
  readonly stats: StatsCounter;
}

export const ADMIN_ROUTES: Readonly<Record<string, readonly string[]>> = {
  "/admin/behaviour": ["GET", "POST"],
  "/admin/reset": ["POST"],
  "/admin/stats": ["GET"],
};

/** Answers an admin route already checked against ADMIN_ROUTES; bad input throws a 400. */
export async function handleAdmin(context: AdminContext, method: string, path: string, request: IncomingMessage): Promise<BehaviourSnapshot | ProviderStats> {
  const { behaviour, stats } = context;
  if (path === "/admin/stats") return stats.snapshot();
  if (path === "/admin/reset") {
    behaviour.reset();
    stats.reset();
    return behaviour.snapshot();
  }
  if (method === "POST") {
    const parsed = BehaviourPatch.safeParse(await readJsonBody(request));
    if (!parsed.success) throw invalidRequest(`Invalid behaviour: ${z.prettifyError(parsed.error)}`, "invalid_behaviour");
    behaviour.apply(parsed.data);
  }
  return behaviour.snapshot();
}
