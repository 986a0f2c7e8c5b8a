import { actorNames } from "../../actors/index.ts";
import { textTable } from "../demo/text-table.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { withMesh } from "./connection.ts";
import { listDeadLetters, replayDeadLetters, type DeadLetter } from "./dead-letters.ts";

export interface DlqOptions {
  readonly server?: string;
  readonly json?: boolean;
}

/** `mesh dlq ls <actor>`: the actor's dead letters, oldest first, with why each was dead-lettered. */
export async function dlqListCommand(io: CliIo, actor: string, options: DlqOptions): Promise<number> {
  checkActor(actor);
  const letters = await withMesh(io, options.server, (nc) => listDeadLetters(nc, actor));
  if (options.json) {
    io.out(`${JSON.stringify(letters, null, 2)}\n`);
    return 0;
  }
  if (letters.length === 0) {
    io.out(`no dead letters for ${actor}\n`);
    return 0;
  }
  io.out(`${renderLetters(letters).join("\n")}\n${letters.length} dead letter${letters.length === 1 ? "" : "s"}; replay with mesh dlq replay ${actor} <seq...> | --all\n`);
  return 0;
}

export interface DlqReplayOptions extends DlqOptions {
  readonly all?: boolean;
}

/** `mesh dlq replay <actor> [--all | seq...]`: puts dead letters back on their event subjects. */
export async function dlqReplayCommand(io: CliIo, actor: string, seqs: readonly string[], options: DlqReplayOptions): Promise<number> {
  checkActor(actor);
  if (options.all && seqs.length > 0) throw new CliError("give either --all or sequence numbers, not both", 2);
  if (!options.all && seqs.length === 0) throw new CliError(`name the dead letters to replay (sequence numbers from mesh dlq ls ${actor}) or --all`, 2);
  const numbers = seqs.map((text) => {
    const seq = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(seq) || seq < 1) throw new CliError(`"${text}" is not a dead letter's sequence number (a positive integer)`, 2);
    return seq;
  });
  const { replayed } = await withMesh(io, options.server, (nc) => replayDeadLetters(nc, actor, options.all ? "all" : numbers));
  if (options.json) io.out(`${JSON.stringify(replayed, null, 2)}\n`);
  else if (replayed.length === 0) io.out(`no dead letters for ${actor}\n`);
  else io.out(`replayed ${replayed.length} dead letter${replayed.length === 1 ? "" : "s"} of ${actor}: ${replayed.map((l) => `${l.seq} (${l.eventId})`).join(", ")}\n`);
  return 0;
}

function checkActor(actor: string): void {
  if (!actorNames.includes(actor)) throw new CliError(`unknown actor "${actor}" (actors: ${actorNames.join(", ")})`, 2);
}

function renderLetters(letters: readonly DeadLetter[]): string[] {
  return textTable(["seq", "dead-lettered", "event id", "subject", "tenant", "deliveries", "reason"], letters.map((l) => [
    String(l.seq), l.time.replace("T", " ").replace(/\.\d+Z$/, "Z"), l.eventId, l.originalSubject, l.tenant || "-", String(l.deliveryCount), l.reason,
  ]));
}
