/** Helpers for the tests of credentials and permissions (not used outside tests). */
import { PermissionViolationError, type NatsConnection } from "@nats-io/nats-core";

/** A subject no user of the mesh is granted: its refusal marks the end of a probe. */
const SENTINEL = "mesh.probe.never-granted";

/**
 * Runs `act` (publishes and subscriptions on `nc`) and returns what the server refused, as
 * `publish <subject>` / `subscription <subject>`. The server answers every protocol line in
 * order, so once the refusal of a sentinel publish sent after `act` arrives, every refusal of
 * `act` has arrived before it: no waiting on time. `nc` must not be granted the sentinel.
 */
export async function refusedBy(nc: NatsConnection, act: () => void): Promise<string[]> {
  const refused: string[] = [];
  const statuses = nc.status();
  const done = (async () => {
    for await (const status of statuses) {
      if (status.type !== "error" || !(status.error instanceof PermissionViolationError)) continue;
      const { operation, subject } = status.error;
      if (operation === "publish" && subject === SENTINEL) return;
      refused.push(`${operation} ${subject}`);
    }
  })();
  act();
  nc.publish(SENTINEL);
  await done;
  return refused;
}
