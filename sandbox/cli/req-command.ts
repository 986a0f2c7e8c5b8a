import { isMeshError, MeshClient } from "../../runtime/index.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { withMesh } from "./connection.ts";

export interface ReqOptions {
  readonly server?: string;
  readonly tenant?: string;
  readonly idempotencyKey?: string;
  readonly timeout: string;
}

/**
 * `mesh req <subject> <json>`: one request with the protocol's headers (tenant, idempotency key,
 * deadline), no retries. Prints the reply's JSON and exits 0, or the error reply's JSON
 * (`{"error":{"code",...}}`) and exits 1.
 */
export async function reqCommand(io: CliIo, subject: string, json: string, options: ReqOptions): Promise<number> {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subject)) throw new CliError(`"${subject}" is not a subject to send to (dot-separated tokens, no wildcards)`, 2);
  const timeoutMs = Number(options.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new CliError(`--timeout must be a positive number of milliseconds, not "${options.timeout}"`, 2);
  try {
    JSON.parse(json);
  } catch {
    throw new CliError(`the payload is not JSON: ${json.length > 80 ? `${json.slice(0, 80)}…` : json}`, 2);
  }
  return withMesh(io, options.server, async (nc) => {
    const client = new MeshClient(nc, { service: "mesh-cli", maxAttempts: 1 });
    try {
      const reply = await client.requestBytes(subject, new TextEncoder().encode(json), {
        timeoutMs,
        ...(options.tenant ? { tenant: options.tenant } : {}),
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      });
      io.out(`${JSON.stringify(reply, null, 2)}\n`);
      return 0;
    } catch (error) {
      if (!isMeshError(error)) throw error;
      io.out(`${JSON.stringify({ error: error.toBody() }, null, 2)}\n`);
      if (/no responders/.test(error.message)) io.err(`nothing listens on ${subject}: is its actor running? (mesh status)\n`);
      return 1;
    } finally {
      client.close();
    }
  });
}
