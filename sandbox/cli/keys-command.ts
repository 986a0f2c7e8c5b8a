import { gatewayContract } from "../../protocol/gateway.ts";
import { TenantId } from "../../protocol/tenants.ts";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { withMesh } from "./connection.ts";

export type KeysAction =
  | { kind: "create"; tenant: string; label?: string | undefined }
  | { kind: "ls"; tenant: string }
  | { kind: "revoke"; tenant: string; prefix: string }
  | { kind: "rotate"; tenant: string; prefix: string };

/**
 * `mesh keys create|ls|revoke|rotate <tenant>`: the gateway's key administration, sent as the
 * operator (role tenant-admin). A new key is printed once, on its own line, and never again;
 * `ls` shows prefixes only. Exit 0, 1 for a refused request (its typed error printed), 2 for bad input.
 */
export async function keysCommand(io: CliIo, action: KeysAction, server: string | undefined): Promise<number> {
  if (!TenantId.safeParse(action.tenant).success) throw new CliError(`"${action.tenant}" is not a tenant id (lower-case letters, digits and dashes)`, 2);
  if ("prefix" in action && !/^mw_[A-Za-z0-9]{8}$/.test(action.prefix)) throw new CliError(`"${action.prefix}" is not a key prefix (mw_ and 8 letters or digits; see mesh keys ls)`, 2);
  return withMesh(io, server, async (nc) => {
    const mesh = new MeshClient(nc, { service: "mesh-cli", maxAttempts: 1 });
    const keys = actorClient(mesh, gatewayContract);
    const options = { tenant: action.tenant, timeoutMs: 10_000 };
    try {
      switch (action.kind) {
        case "create":
        case "rotate": {
          const created = action.kind === "create"
            ? await keys.createKey(action.label ? { label: action.label } : {}, options)
            : await keys.rotateKey({ prefix: action.prefix }, options);
          io.err(`${action.kind === "rotate" ? `revoked ${action.prefix}; ` : ""}new key for ${action.tenant} (${created.prefix}, label ${created.label}); it is shown only now:\n`);
          io.out(`${created.key}\n`);
          return 0;
        }
        case "ls": {
          const { keys: listed } = await keys.listKeys({}, options);
          for (const key of listed) io.out(`${key.prefix}  ${key.label}  created ${key.createdAt}  ${key.revokedAt ? `revoked ${key.revokedAt}` : "active"}\n`);
          if (listed.length === 0) io.err(`${action.tenant} has no keys\n`);
          return 0;
        }
        case "revoke": {
          const revoked = await keys.revokeKey({ prefix: action.prefix }, options);
          io.out(`${revoked.prefix} revoked ${revoked.revokedAt}\n`);
          return 0;
        }
      }
    } catch (error) {
      if (!isMeshError(error)) throw error;
      io.out(`${JSON.stringify({ error: error.toBody() }, null, 2)}\n`);
      if (/no responders/.test(error.message)) io.err("the gateway is not running (mesh status)\n");
      return 1;
    } finally {
      mesh.close();
    }
  });
}
