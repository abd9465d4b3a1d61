// What makes two log records the same record, so that a client's retry or a replay is stored once
// and two different records never are. Everything a sender sets is in it but the observed time,
// which a replay through a collector sets anew. A record with neither time is dated by its arrival,
// which is no part of it: the request it came in stands for its time (DecodedLog.undatedIdentity),
// so a retry of that request is stored once, and the same line in another request is another.
import { createHash } from 'node:crypto';
import type { DecodedLog } from '../otlp/decoded.js';

const SEP = '\u0000';

/**
 * The record's content hash. The resource is taken whole (its canonical bytes, or the batch API's
 * host and environment): the same line from two hosts is two records. The batch API's key fields
 * are not attributes, so they are taken too; an OTLP record's keys come from what is hashed.
 */
export function logContentHash(l: DecodedLog): string {
  // A structured body's text is its entries as sent (what the views show), but its keys have no
  // order either: a logger writing the same map in another order wrote the same record.
  const bodyText = l.bodyEntries ? JSON.stringify(inKeyOrder(l.bodyEntries)) : l.body;
  const h = createHash('sha1')
    .update(`${l.undatedIdentity ?? l.timeUnixNano}${SEP}${l.severityNumber}${SEP}${l.severityText}${SEP}${l.traceId}${SEP}${l.spanId}`)
    .update(`${SEP}${l.eventName}${SEP}${l.source}${SEP}${l.resource.scopeName}${SEP}${l.resource.scopeVersion}${SEP}`)
    .update(`${l.resource.resourceBytes.length}${SEP}`)
    .update(l.resource.resourceBytes)
    .update(`${SEP}${bodyText.length}${SEP}${bodyText}${SEP}`)
    .update(JSON.stringify(inKeyOrder(l.attributes)));
  // As given, not as read: keys the patterns find in the text change with LOG_KEY_PATTERNS, and a
  // record sent again after a change of them was stored twice.
  if (l.source === 'api') h.update(`${SEP}${JSON.stringify(inKeyOrder(l.fieldKeys ?? {}))}`);
  return h.digest('base64');
}

/**
 * A map in key order, and every map within it: OTLP gives a key-value list no order, and a sender
 * may write one in another. The same object when it is in order already, as most are.
 */
function inKeyOrder<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const c: unknown = inKeyOrder(v[i]);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return (out ?? v) as T;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  let same = true;
  for (let i = 1; i < keys.length && same; i++) same = keys[i - 1]! <= keys[i]!;
  const values = keys.map(k => {
    const c = inKeyOrder(o[k]);
    if (c !== o[k]) same = false;
    return c;
  });
  if (same) return v;
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const i of order) out[keys[i]!] = values[i];
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
