// Decodes an OTLP ExportLogsServiceRequest. Logs are fewer and smaller than spans and are stored
// decoded, so every field is read.
import { createHash } from 'node:crypto';
import { attrValueToText, readAnyValue, readKeyValueInto, type AttrMap, type AttrValue } from './any-value.js';
import { bodyOverLimit, logBodyLimit, utf8BytesOver } from './item-limits.js';
import {
  noteRejection,
  noteWarning,
  type DecodedLog,
  type DecodedLogBatch,
  type DecodedResourceScope,
  type KeyExtractionRules,
} from './decoded.js';
import { extractLogKeys } from './log-keys.js';
import { ItemRejected, readItemId, walkExportRequest, type ItemPlaces, type WalkNames } from './request-walker.js';
import { DecodeError, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, type WireReader, expectWire, nanosFromParts, utf8 } from './wire-reader.js';
import { msOfNanos } from '../time/rfc3339.js';
import { checkAttribute, checkNameLength } from './attribute-checks.js';
import { severityNumberOfText } from './severity.js';

/** SEVERITY_NUMBER_FATAL4, the last of OTLP's severity numbers. */
const MAX_SEVERITY_NUMBER = 24;
import { isKnownTime, logTimeWarning } from './item-times.js';

const LOGS_REQUEST: WalkNames = {
  request: 'ExportLogsServiceRequest.resource_logs',
  resourceContainer: 'ResourceLogs',
  scopeContainer: 'ScopeLogs',
  path: ['resourceLogs', 'scopeLogs', 'logRecords'],
};

/** `places`: where the items of `buf` were in the client's body, when `buf` is a re-encoding of it that left items out. */
export function decodeLogsRequest(buf: Uint8Array, rules: KeyExtractionRules, nowMs = Date.now(), places: ItemPlaces | null = null): DecodedLogBatch {
  const batch: DecodedLogBatch = { logs: [], rejected: 0, rejectionMessages: [], warnings: [], warned: 0 };
  walkExportRequest(
    buf,
    rules,
    LOGS_REQUEST,
    (r, s, e, resource, warnings) => batch.logs.push(decodeLogRecord(r, s, e, resource, rules, nowMs, warnings)),
    (message, count) => noteRejection(batch, message, count),
    places,
    message => noteWarning(batch, message),
  );
  // Only when a record needs it: most requests have none, and the digest reads the whole request.
  let requestDigest: string | undefined;
  for (const l of batch.logs) {
    if (l.undatedIdentity === undefined) continue;
    requestDigest ??= `request ${createHash('sha1').update(buf).digest('base64')}`;
    l.undatedIdentity = requestDigest;
  }
  return batch;
}

/** The body's value; one it cannot read rejects the record as the body's, not an attribute's. */
function readLogBody(r: WireReader, start: number, end: number): AttrValue {
  try {
    return readAnyValue(r, start, end);
  } catch (err) {
    if (err instanceof DecodeError) throw new ItemRejected(`log body cannot be read: ${err.message}`);
    throw err;
  }
}

function decodeLogRecord(
  r: WireReader,
  start: number,
  end: number,
  resource: DecodedResourceScope,
  rules: KeyExtractionRules,
  nowMs: number,
  warnings: string[],
): DecodedLog {
  const save = r.end;
  r.pos = start;
  r.end = end;
  let time: [number, number] = [0, 0];
  let observed: [number, number] = [0, 0];
  let severityNumber = 0;
  let severityText = '';
  let body = '';
  let bodyEntries: AttrMap | null = null;
  let traceId = '';
  let spanId = '';
  let eventName = '';
  const attributes: AttrMap = {};
  try {
    while (!r.done) {
      const tag = r.tag();
      switch (tag >>> 3) {
        case 1:
          expectWire(tag, WIRE_FIXED64, 'LogRecord.time_unix_nano');
          time = r.fixed64Parts();
          break;
        case 11:
          expectWire(tag, WIRE_FIXED64, 'LogRecord.observed_time_unix_nano');
          observed = r.fixed64Parts();
          break;
        case 2:
          expectWire(tag, WIRE_VARINT, 'LogRecord.severity_number');
          severityNumber = r.int32();
          break;
        case 3: {
          expectWire(tag, WIRE_LEN, 'LogRecord.severity_text');
          const s = r.delimitedStart();
          // Listed with every log, as a name is: held to the name limit.
          checkNameLength(s, r.pos, rules, 'log severity_text');
          severityText = utf8(r.buf, s, r.pos);
          break;
        }
        case 5: {
          expectWire(tag, WIRE_LEN, 'LogRecord.body');
          const s = r.delimitedStart();
          const e = r.pos;
          const value = readLogBody(r, s, e);
          body = attrValueToText(value);
          bodyEntries = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
          r.end = end;
          break;
        }
        case 6: {
          expectWire(tag, WIRE_LEN, 'LogRecord.attributes');
          const s = r.delimitedStart();
          const e = r.pos;
          // The checks a span's attributes have, which name the key of a value it cannot read
          // (the reader's own error did not), then the reading.
          checkAttribute(r, s, e, rules, 'log', -1);
          readKeyValueInto(r, s, e, attributes);
          r.end = end;
          break;
        }
        case 9:
          expectWire(tag, WIRE_LEN, 'LogRecord.trace_id');
          traceId = readItemId(r, 16, 'log trace_id', true);
          break;
        case 10:
          expectWire(tag, WIRE_LEN, 'LogRecord.span_id');
          spanId = readItemId(r, 8, 'log span_id', true);
          break;
        case 12: {
          expectWire(tag, WIRE_LEN, 'LogRecord.event_name');
          const s = r.delimitedStart();
          checkNameLength(s, r.pos, rules, 'log event_name');
          eventName = utf8(r.buf, s, r.pos);
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
  } finally {
    r.end = save;
    r.pos = end;
  }
  const bodyLimit = logBodyLimit(rules.maxAttributeValueBytes);
  const bodyBytes = utf8BytesOver(body, bodyLimit);
  if (bodyBytes !== null) throw new ItemRejected(bodyOverLimit('log body', bodyBytes, bodyLimit));
  // OTLP allows time_unix_nano = 0 ("unknown"): fall back to the observed time, then to arrival.
  // A time no clock explains is unknown too (item-times.ts), or it would be kept for ever, and so is
  // one of a clock not yet set, or it would date its trace and circuit from then, as a span's did.
  let timeUnixNano: string;
  let byArrival = false;
  if (isKnownTime(time[0], time[1], nowMs)) timeUnixNano = nanosFromParts(time[0], time[1]);
  else {
    const byObserved = isKnownTime(observed[0], observed[1], nowMs);
    byArrival = !byObserved;
    timeUnixNano = byObserved ? nanosFromParts(observed[0], observed[1]) : String(BigInt(Math.round(nowMs)) * 1_000_000n);
    if (time[0] !== 0 || time[1] !== 0) warnings.push(logTimeWarning(time[0], time[1], byObserved ? 'observed time' : 'arrival'));
  }
  if (severityNumber < 0 || severityNumber > MAX_SEVERITY_NUMBER) {
    // 99 read as worse than FATAL turned its circuit to error and matched every min_severity.
    warnings.push(`severity_number ${severityNumber} is outside OTLP's 1–24: taken as unspecified, its severity read from its text`);
    severityNumber = 0;
  }
  const timeMs = msOfNanos(BigInt(timeUnixNano));
  const found = extractLogKeys(body, attributes, resource, rules, bodyEntries, warnings, traceId !== '');
  return {
    timeMs,
    timeUnixNano,
    observedTimeUnixNano: nanosFromParts(observed[0], observed[1]),
    // An error given by its text alone counts as one (severity.ts). The text is kept as sent: it
    // is part of what identifies a record sent again (the store's dedupe).
    severityNumber: severityNumber !== 0 ? severityNumber : severityNumberOfText(severityText),
    severityText,
    body,
    bodyEntries,
    traceId,
    spanId,
    eventName,
    attributes,
    keys: found.keys,
    moreKeys: found.more,
    resource,
    source: 'otlp',
    // Filled in with the request's digest once the request is read (decodeLogsRequest).
    ...(byArrival ? { undatedIdentity: '' } : {}),
  };
}
