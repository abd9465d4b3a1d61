// The user's JSON log batch (POST /api/logs) → the decoded-log model shared with OTLP logs.
import { BUSINESS_KEY_NAMES, MAX_KEY_VALUE_LENGTH, type LogBatch, type LogBatchRecord } from '@correlation-station/api-schema';
import type { AttrMap } from '../otlp/any-value.js';
import type { DecodedLog, DecodedResourceScope, KeyExtractionRules, KeyValues } from '../otlp/decoded.js';
import { isZeroHex } from '../otlp/hex.js';
import { bodyOverLimit, logBodyLimit, nameTextProblem, utf8BytesOver, valueTextProblem } from '../otlp/item-limits.js';
import { extractLogKeys } from '../otlp/log-keys.js';
import { keyLengthText, keyValueProblem, keyValueText } from '../otlp/any-value.js';
import { msOfNanos, parseRfc3339Nanos } from '../time/rfc3339.js';
import { severityNumberOfText } from '../otlp/severity.js';
import { CLOCK_SET_MS, isKnownMs, NOT_AFTER_CLOCK_SET } from '../otlp/item-times.js';


const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;

export interface ConvertedLogBatch {
  logs: DecodedLog[];
  errors: { index: number; message: string }[];
}

/**
 * Why the batch's resource cannot be stored, or null. Its fields are the resource attributes an
 * OTLP resource would carry (service.name, host.name, deployment.environment.name), held to the
 * same limits: unchecked, a 20 MiB service was listed in every answer naming services.
 */
export function batchResourceProblem(resource: LogBatch['resource'], rules: KeyExtractionRules): string | null {
  // The service is also a name, listed in every service list and graph as service.name is: its
  // limit, the smaller by default, is the one to name first.
  const serviceProblem = nameTextProblem('resource.service', resource.service, rules.maxNameBytes);
  if (serviceProblem) return serviceProblem;
  const fields: [string, string | undefined][] = [
    ['resource.service', resource.service],
    ['resource.host', resource.host],
    ['resource.env', resource.env],
  ];
  for (const [what, text] of fields) {
    const problem = text === undefined ? null : valueTextProblem(what, text, rules.maxAttributeValueBytes);
    if (problem) return problem;
  }
  return null;
}

/** `nowMs`: when the batch arrived, which its timestamps are judged by. */
export function convertLogBatch(batch: LogBatch, rules: KeyExtractionRules, nowMs: number): ConvertedLogBatch {
  const attrs: AttrMap = { 'service.name': batch.resource.service };
  if (batch.resource.host) attrs['host.name'] = batch.resource.host;
  if (batch.resource.env) attrs['deployment.environment.name'] = batch.resource.env;
  const resource: DecodedResourceScope = {
    serviceName: batch.resource.service,
    keys: null,
    attributes: attrs,
    resourceBytes: Buffer.from(JSON.stringify(attrs)),
    scopeName: 'api/logs',
    scopeVersion: '',
  };
  const out: ConvertedLogBatch = { logs: [], errors: [] };
  batch.records.forEach((sent, index) => {
    const raw = withoutNullFields(sent);
    const problem = validateRecord(raw, rules, nowMs);
    if (problem) {
      out.errors.push({ index, message: problem });
      return;
    }
    const rec = raw as LogBatchRecord;
    // Checked by validateRecord.
    const timeNanos = parseRfc3339Nanos(rec.timestamp)!;
    const timeMs = msOfNanos(timeNanos);
    const explicit: KeyValues = {};
    for (const k of BUSINESS_KEY_NAMES) {
      const v = rec[k];
      const text = typeof v === 'string' ? keyValueText(v) : null;
      if (text !== null) explicit[k] = text;
    }
    const attributes: AttrMap = { ...(rec.labels ?? {}) };
    // Labels are strings (validateRecord): they name no further values.
    const traceId = optionalId(rec.trace_id);
    const found = extractLogKeys(rec.message, attributes, null, rules, null, undefined, traceId !== '');
    const merged = { ...(found.keys ?? {}), ...explicit };
    // A record's own field names its key outright, whatever its text says: the text's further
    // values of that key are left out too (labels are strings, so all further values are the text's).
    const moreKeys = found.more ? pairsOfOtherKeys(found.more, explicit) : null;
    const severity = (rec.severity ?? 'INFO').toUpperCase();
    out.logs.push({
      timeMs,
      timeUnixNano: timeNanos.toString(),
      observedTimeUnixNano: '0',
      severityNumber: severityNumberOfText(severity),
      severityText: severity,
      body: rec.message,
      traceId,
      spanId: optionalId(rec.span_id),
      eventName: '',
      attributes,
      keys: Object.keys(merged).length > 0 ? merged : null,
      moreKeys,
      fieldKeys: Object.keys(explicit).length > 0 ? explicit : null,
      resource,
      source: 'api',
    });
  });
  return out;
}

/**
 * A record's fields given as JSON null are fields not given: Python's json.dumps writes None as
 * null (`"trace_id": null` outside a span), and each such record was refused as "trace_id must be
 * 32 hex characters" (RV17). The fields a record needs stay needed: a null timestamp is still none.
 */
function withoutNullFields(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const entries = Object.entries(raw);
  if (!entries.some(([, v]) => v === null)) return raw;
  return Object.fromEntries(entries.filter(([, v]) => v !== null));
}

/** As OTLP has it, an all-zero id is no id: taken as one, it joined every such log into one trace. */
function optionalId(hex: string | undefined): string {
  return hex === undefined || isZeroHex(hex) ? '' : hex.toLowerCase();
}

function validateRecord(raw: unknown, rules: KeyExtractionRules, nowMs: number): string | null {
  const { maxAttributeValueBytes, maxNameBytes } = rules;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'record must be an object';
  const r = raw as Record<string, unknown>;
  // A null one too (withoutNullFields): "got undefined" said nothing (RV19).
  if (r.timestamp === undefined) return 'timestamp is missing: give an RFC 3339 time with a zone (2026-01-01T00:00:00.000Z)';
  const timeNanos = typeof r.timestamp === 'string' ? parseRfc3339Nanos(r.timestamp) : null;
  if (timeNanos === null) {
    return `timestamp must be an RFC 3339 time with a zone (2026-01-01T00:00:00.000Z), got ${JSON.stringify(r.timestamp)?.slice(0, 60)}`;
  }
  // A time OTLP takes as unknown dates an OTLP record by its observed time or its arrival
  // (item-times.ts); this record has no other time to be dated by. Judged as it would be stored.
  const timeMs = msOfNanos(timeNanos);
  if (!isKnownMs(timeMs, nowMs)) return unknownTimestamp(String(r.timestamp).slice(0, 60), timeMs);
  if (typeof r.message !== 'string') return 'message must be a string';
  // The limits OTLP logs have: the message is a log body, a label an attribute.
  const bodyLimit = logBodyLimit(maxAttributeValueBytes);
  const messageBytes = utf8BytesOver(r.message, bodyLimit);
  if (messageBytes !== null) return bodyOverLimit('message', messageBytes, bodyLimit);
  if (r.trace_id !== undefined && (typeof r.trace_id !== 'string' || !HEX32.test(r.trace_id))) {
    return `trace_id must be 32 hex characters, got ${JSON.stringify(r.trace_id)?.slice(0, 60)}`;
  }
  if (r.span_id !== undefined && (typeof r.span_id !== 'string' || !HEX16.test(r.span_id))) {
    return `span_id must be 16 hex characters, got ${JSON.stringify(r.span_id)?.slice(0, 60)}`;
  }
  for (const k of BUSINESS_KEY_NAMES) {
    const v = r[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') return `${k} must be a string`;
    if (v.length > MAX_KEY_VALUE_LENGTH) return `${k} is ${keyLengthText(v)}, over the limit of ${MAX_KEY_VALUE_LENGTH}`;
    // As an attribute's value is taken (any-value.ts, keyValueText), but refused with its record:
    // the field says it is the key.
    const problem = keyValueProblem(v);
    if (problem) return `${k} ${problem}`;
  }
  if (r.severity !== undefined) {
    if (typeof r.severity !== 'string') return 'severity must be a string';
    // As an OTLP severity_text: listed with every log.
    const problem = nameTextProblem('severity', r.severity, maxNameBytes);
    if (problem) return problem;
  }
  if (r.labels !== undefined) {
    if (r.labels === null || typeof r.labels !== 'object' || Array.isArray(r.labels)) return 'labels must be an object of strings';
    for (const [k, v] of Object.entries(r.labels)) {
      // A label is a log attribute: its key a name, its value a value.
      const keyProblem = nameTextProblem(`labels key "${k.slice(0, 200)}…"`, k, maxNameBytes);
      if (keyProblem) return keyProblem;
      if (typeof v !== 'string') return `labels.${k.slice(0, 200)} must be a string`;
      const valueProblem = valueTextProblem(`labels.${k.slice(0, 200)} value`, v, maxAttributeValueBytes);
      if (valueProblem) return valueProblem;
    }
  }
  return null;
}

/** Why a record's timestamp, refused by isKnownMs, dates nothing. */
function unknownTimestamp(text: string, timeMs: number): string {
  if (timeMs <= 0) {
    return `timestamp ${text} is not after 1970-01-01T00:00:00Z (to the microsecond), which OTLP takes as unset: the record has no time (check the sender's clock)`;
  }
  if (timeMs <= CLOCK_SET_MS) {
    return `timestamp ${text} ${NOT_AFTER_CLOCK_SET}: the record has no time (check the sender's clock)`;
  }
  return `timestamp ${text} is more than a day ahead of this server's clock, further than any clock is off (check the sender's clock)`;
}

/** The (key, value) pairs of keys `keys` does not name; null when none is left. */
function pairsOfOtherKeys(pairs: readonly string[], keys: KeyValues): string[] | null {
  let out: string[] | null = null;
  for (let i = 0; i < pairs.length; i += 2) if (keys[pairs[i] as keyof KeyValues] === undefined) (out ??= []).push(pairs[i]!, pairs[i + 1]!);
  return out;
}
