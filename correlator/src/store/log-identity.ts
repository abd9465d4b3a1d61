// What makes two log records the same record, so that a client's retry or a replay is stored once
// and two different records never are. Everything a sender sets is in it but the observed time,
// which a replay through a collector sets anew.
import { createHash } from 'node:crypto';
import type { DecodedLog } from '../otlp/decoded.js';

const SEP = '\u0000';

/**
 * The record's content hash. The resource is taken whole (its canonical bytes, or the batch API's
 * host and environment): the same line from two hosts is two records. The batch API's key fields
 * are not attributes, so its keys are taken too; an OTLP record's keys come from what is hashed.
 */
export function logContentHash(l: DecodedLog): string {
  const h = createHash('sha1')
    .update(`${l.timeUnixNano}${SEP}${l.severityNumber}${SEP}${l.severityText}${SEP}${l.traceId}${SEP}${l.spanId}`)
    .update(`${SEP}${l.eventName}${SEP}${l.source}${SEP}${l.resource.scopeName}${SEP}${l.resource.scopeVersion}${SEP}`)
    .update(`${l.resource.resourceBytes.length}${SEP}`)
    .update(l.resource.resourceBytes)
    .update(`${SEP}${l.body.length}${SEP}${l.body}${SEP}`)
    .update(JSON.stringify(l.attributes));
  if (l.source === 'api') h.update(`${SEP}${JSON.stringify(l.keys ?? {})}`);
  return h.digest('base64');
}

/**
 * The key of the `seen`-th earlier record of the same content in one request: identical records in
 * one request are as many records (a script logging the same line twice in a millisecond), and each
 * has its place among them, which a retry repeats.
 */
export function logDedupeKey(content: string, seen: number): string {
  return seen === 0 ? content : createHash('sha1').update(`${content}#${seen}`).digest('base64');
}
