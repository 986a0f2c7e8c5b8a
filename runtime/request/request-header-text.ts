/**
 * A request's mesh headers read in one pass over the header block's text, instead of through the
 * `msg.headers` getter, whose decode was the largest cost the mesh added to a request on the
 * replica (sandbox/bench/README.md, "Request/reply against its targets").
 * The result is what `readRawMeta` makes of nats-core's decode of the same block, to the letter
 * (request-header-text.test.ts sends odd blocks through nats-server and compares both):
 * - the first line is the status line and carries no header; a line without a colon is skipped;
 *   the name runs to the first colon, the value is the rest, trimmed (`String.prototype.trim`);
 * - the mesh headers match in any case, `Nats-Request-Info` only in its exact spelling;
 * - per spelling of a name its first value counts, across spellings the first non-empty one;
 * - a block nats-core refuses to decode (a name with a character outside `!`..`~`, a value with
 *   a CR or LF inside) is BAD_REQUEST, on both paths (nats-core's getter throws a plain error,
 *   which would otherwise be answered INTERNAL).
 */
import type { Msg } from "@nats-io/nats-core";
import { REQUEST_INFO_HEADER } from "../../protocol/roles.ts";
import { MeshError } from "../errors.ts";
import { headerBlockText } from "../pipeline/header-block.ts";
import { checkRequestMeta, emptyRawMeta, LOWER_NAMES, readRawMeta, type RawMeta, type RequestMeta } from "./request-headers.ts";

const MALFORMED_BLOCK = "malformed header block";
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
const TO_LOWER = 0x20;
/** The characters nats-core's `canonicalMIMEHeaderKey` accepts in a name (printable ASCII but ':'). */
const NAME_FIRST = 0x21;
const NAME_LAST = 0x7e;

type MeshField = Exclude<keyof RawMeta, "requestInfo">;
/** The mesh headers by the length of their name: most names are ruled out by their length alone. */
const FIELDS_BY_LENGTH = new Map<number, MeshField[]>();
for (const field of Object.keys(LOWER_NAMES) as MeshField[]) {
  FIELDS_BY_LENGTH.set(LOWER_NAMES[field].length, [...FIELDS_BY_LENGTH.get(LOWER_NAMES[field].length) ?? [], field]);
}

/** Parses and validates the mesh headers of a request; see the top of this file. */
export function readRequestMetaOf(msg: Msg, now: number, defaultTimeoutMs: number): RequestMeta {
  return checkRequestMeta(readRawMetaOf(msg), now, defaultTimeoutMs);
}

/** The raw values: from the block's text when nats-core exposes it, else from the public `headers`. */
export function readRawMetaOf(msg: Msg): RawMeta {
  const text = headerBlockText(msg);
  if (text !== undefined) return readRawMetaFromText(text);
  let headers;
  try {
    headers = msg.headers;
  } catch (error) {
    throw new MeshError("BAD_REQUEST", MALFORMED_BLOCK, { cause: error });
  }
  return readRawMeta(headers);
}

export function readRawMetaFromText(text: string): RawMeta {
  const raw = emptyRawMeta();
  let requestInfoSeen = false;
  /** Exact spellings whose first value was empty: their later values do not count. */
  let emptySpellings: string[] | undefined;
  let lineEnd = text.indexOf("\r\n");
  while (lineEnd >= 0) {
    const start = lineEnd + 2;
    lineEnd = text.indexOf("\r\n", start);
    const end = lineEnd < 0 ? text.length : lineEnd;
    const colon = text.indexOf(":", start);
    if (colon < 0 || colon >= end) continue;
    for (let i = start; i < colon; i++) {
      const code = text.charCodeAt(i);
      if (code < NAME_FIRST || code > NAME_LAST) throw new MeshError("BAD_REQUEST", MALFORMED_BLOCK);
    }
    const value = text.slice(colon + 1, end).trim();
    if (value.includes("\r") || value.includes("\n")) throw new MeshError("BAD_REQUEST", MALFORMED_BLOCK);
    const nameLength = colon - start;
    if (nameLength === REQUEST_INFO_HEADER.length && text.startsWith(REQUEST_INFO_HEADER, start)) {
      if (!requestInfoSeen) raw.requestInfo = value;
      requestInfoSeen = true;
      continue;
    }
    const field = meshFieldAt(text, start, nameLength);
    if (field === undefined || raw[field] !== "") continue;
    if (emptySpellings?.includes(text.slice(start, colon))) continue;
    if (value === "") (emptySpellings ??= []).push(text.slice(start, colon));
    else raw[field] = value;
  }
  return raw;
}

/** The mesh header named at `start`, its ASCII letters in any case (the name is checked as ASCII already). */
function meshFieldAt(text: string, start: number, length: number): MeshField | undefined {
  for (const field of FIELDS_BY_LENGTH.get(length) ?? []) {
    if (sameLetters(text, start, LOWER_NAMES[field])) return field;
  }
  return undefined;
}

function sameLetters(text: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let code = text.charCodeAt(start + i);
    if (code >= UPPER_A && code <= UPPER_Z) code += TO_LOWER;
    if (code !== lower.charCodeAt(i)) return false;
  }
  return true;
}
