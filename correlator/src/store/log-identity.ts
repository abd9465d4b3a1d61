// What makes two log records the same record, so that a client's retry or a replay is stored once
// and two different records never are. Everything a sender sets is in it but the observed time,
// which a replay through a collector sets anew.
import { createHash } from 'node:crypto';
import type { DecodedLog } from '../otlp/decoded.js';

const SEP = '\u0000';

/**
 * The record's content hash. The resource is taken whole (its canonical bytes, or the batch API's
 * host and environment): the same line from two hosts is two records. The batch API's key fields
 * are not attributes, so they are taken too; an OTLP record's keys come from what is hashed.
 */
export function logContentHash(l: DecodedLog): string {
  const h = createHash('sha1')
    .update(`${l.timeUnixNano}${SEP}${l.severityNumber}${SEP}${l.severityText}${SEP}${l.traceId}${SEP}${l.spanId}`)
    .update(`${SEP}${l.eventName}${SEP}${l.source}${SEP}${l.resource.scopeName}${SEP}${l.resource.scopeVersion}${SEP}`)
    .update(`${l.resource.resourceBytes.length}${SEP}`)
    .update(l.resource.resourceBytes)
    .update(`${SEP}${l.body.length}${SEP}${l.body}${SEP}`)
    .update(JSON.stringify(inKeyOrder(l.attributes)));
  // As given, not as read: keys the patterns find in the text change with LOG_KEY_PATTERNS, and a
  // record sent again after a change of them was stored twice.
  if (l.source === 'api') h.update(`${SEP}${JSON.stringify(inKeyOrder(l.fieldKeys ?? {}))}`);
  return h.digest('base64');
}

/** The attributes in key order: OTLP gives them no order, and a sender may write them in another. */
function inKeyOrder<T extends object>(o: T): T {
  const keys = Object.keys(o);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
  if (sorted) return o;
  const out: Record<string, unknown> = {};
  for (const k of keys.sort()) out[k] = (o as Record<string, unknown>)[k];
  return out as T;
}

/**
 * The key of the `seen`-th earlier record of the same content in one request: identical records in
 * one request are as many records (a script logging the same line twice in a millisecond), and each
 * has its place among them, which a retry repeats.
 */
export function logDedupeKey(content: string, seen: number): string {
  return seen === 0 ? content : createHash('sha1').update(`${content}#${seen}`).digest('base64');
}
