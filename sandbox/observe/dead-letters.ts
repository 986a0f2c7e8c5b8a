/** The most recent dead letters of every actor, with the reason the runtime wrote into their headers. */
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";

export interface DeadLetterView {
  readonly stream: string;
  readonly subject: string;
  readonly consumer: string;
  readonly eventId: string;
  readonly reason: string;
  readonly deliveryCount: number;
  readonly tenant: string;
  readonly at: string;
}

/** Up to `perStream` newest messages of each DLQ_* stream, newest first across all. */
export async function recentDeadLetters(nc: NatsConnection, perStream = 10): Promise<DeadLetterView[]> {
  const jsm = await jetstreamManager(nc);
  const found: DeadLetterView[] = [];
  for await (const stream of jsm.streams.list()) {
    if (!stream.config.name.startsWith("DLQ_")) continue;
    const { first_seq: first, last_seq: last, messages } = stream.state;
    if (messages === 0) continue;
    for (let seq = last; seq >= first && seq > last - perStream; seq--) {
      const message = await jsm.streams.getMessage(stream.config.name, { seq }).catch(() => null);
      if (!message) continue;
      const header = (name: string) => message.header?.get(name) ?? "";
      found.push({
        stream: stream.config.name,
        subject: header("Mw-Dlq-Original-Subject") || message.subject,
        consumer: header("Mw-Dlq-Consumer"),
        eventId: header("Mw-Event-Id"),
        reason: header("Mw-Dlq-Reason"),
        deliveryCount: Number(header("Mw-Dlq-Delivery-Count")) || 0,
        tenant: header("Mw-Tenant"),
        at: message.time.toISOString(),
      });
    }
  }
  return found.sort((a, b) => b.at.localeCompare(a.at));
}
