import type { z } from "zod";
import { gatewayContract } from "../../protocol/gateway.ts";
import type { WorkContext } from "../../runtime/index.ts";
import { apiKeys } from "./api-keys.ts";

type Input<K extends keyof typeof gatewayContract.requests> = z.output<(typeof gatewayContract.requests)[K]["input"]>;

/** Operator key administration over NATS (role tenant-admin): `npx mesh keys ...` sends these. */
export const keyHandlers = {
  createKey: (input: Input<"createKey">, context: WorkContext) => apiKeys(context.store).create(context.tenant, input.label),
  listKeys: async (_input: Input<"listKeys">, context: WorkContext) => ({ keys: await apiKeys(context.store).list(context.tenant) }),
  revokeKey: (input: Input<"revokeKey">, context: WorkContext) => apiKeys(context.store).revoke(context.tenant, input.prefix),
  async rotateKey(input: Input<"rotateKey">, context: WorkContext) {
    const keys = apiKeys(context.store);
    const old = await keys.revoke(context.tenant, input.prefix);
    return keys.create(context.tenant, old.label);
  },
};
