// OTLP/JSON → OTLP protobuf. JSON differs from the proto3 canonical mapping: ids are hex, not
// base64; enums are integers; int64 may be strings. Each span (or log record) is converted on its
// own so one bad item is rejected alone, then the binary decoder does the rest, so both encodings
// share one code path.
import type protobuf from 'protobufjs';
import { hexToBytes, isZeroHex } from './hex.js';
import { ItemRejected } from './request-walker.js';
import { otlpTypes } from './schema.js';
import { DecodeError } from './wire-reader.js';

export interface NormalisedJson {
  binary: Uint8Array;
  rejected: number;
  rejectionMessages: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function arrayField(o: Obj, name: string, where: string): unknown[] {
  const v = o[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`${where}.${name} must be an array`);
  return v;
}

const UINT64 = /^\d{1,20}$/;
const INT64 = /^-?\d{1,19}$/;

/**
 * protobufjs turns an int64 it cannot parse into 0, which would store a span at 1970 without a
 * word; OTLP/JSON int64s are checked here so the item is rejected naming the field instead.
 */
function checkUint64(o: Obj, name: string, where: string): void {
  const v = o[name];
  if (v === undefined || v === null) return;
  if (typeof v === 'number' ? Number.isInteger(v) && v >= 0 : typeof v === 'string' && UINT64.test(v)) return;
  throw new ItemRejected(`${where}: ${name} ${JSON.stringify(v)?.slice(0, 60)} is not an unsigned 64-bit integer`);
}

function checkIntValues(v: unknown, where: string, depth = 0): void {
  if (depth > 32 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkIntValues(x, `${where}[${i}]`, depth + 1));
    return;
  }
  for (const [k, x] of Object.entries(v as Obj)) {
    if (k === 'intValue') {
      const ok = typeof x === 'number' ? Number.isInteger(x) : typeof x === 'string' && INT64.test(x);
      if (!ok) throw new ItemRejected(`${where}: intValue ${JSON.stringify(x)?.slice(0, 60)} is not a 64-bit integer`);
    } else checkIntValues(x, `${where}.${k}`, depth + 1);
  }
}

function idField(o: Obj, name: string, bytes: number, required: boolean, where: string): void {
  const v = o[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ItemRejected(`${where}: ${name} is missing`);
    delete o[name];
    return;
  }
  if (typeof v !== 'string') throw new ItemRejected(`${where}: ${name} must be a hex string`);
  const b = hexToBytes(v, bytes);
  if (!b) throw new ItemRejected(`${where}: ${name} "${v.slice(0, 80)}" is not ${bytes * 2} hex characters`);
  if (required && isZeroHex(v)) throw new ItemRejected(`${where}: ${name} is all zeroes`);
  o[name] = b;
}

function convertItem(type: protobuf.Type, item: unknown, prepare: (o: Obj) => void, where: string): protobuf.Message {
  if (!isObj(item)) throw new ItemRejected(`${where} must be an object`);
  const copy: Obj = { ...item };
  prepare(copy);
  try {
    return type.fromObject(copy);
  } catch (e) {
    throw new ItemRejected(`${where}: ${(e as Error).message}`);
  }
}

function convertHeader(type: protobuf.Type, v: unknown, where: string): protobuf.Message | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new DecodeError(`${where} must be an object`);
  try {
    return type.fromObject(v);
  } catch (e) {
    throw new DecodeError(`${where}: ${(e as Error).message}`);
  }
}

export function normaliseTraceJson(body: unknown): NormalisedJson {
  const t = otlpTypes();
  if (!isObj(body)) throw new DecodeError('request body must be a JSON object (ExportTraceServiceRequest)');
  const out: NormalisedJson = { binary: new Uint8Array(0), rejected: 0, rejectionMessages: [] };
  const resourceSpans = arrayField(body, 'resourceSpans', 'request').map((rs, i) => {
    const where = `resourceSpans[${i}]`;
    if (!isObj(rs)) throw new DecodeError(`${where} must be an object`);
    return {
      resource: convertHeader(t.Resource, rs.resource, `${where}.resource`),
      schemaUrl: typeof rs.schemaUrl === 'string' ? rs.schemaUrl : '',
      scopeSpans: arrayField(rs, 'scopeSpans', where).map((ss, j) => {
        const sw = `${where}.scopeSpans[${j}]`;
        if (!isObj(ss)) throw new DecodeError(`${sw} must be an object`);
        const spans: protobuf.Message[] = [];
        arrayField(ss, 'spans', sw).forEach((span, k) => {
          const spw = `${sw}.spans[${k}]`;
          try {
            spans.push(
              convertItem(
                t.Span,
                span,
                o => {
                  idField(o, 'traceId', 16, true, spw);
                  idField(o, 'spanId', 8, true, spw);
                  idField(o, 'parentSpanId', 8, false, spw);
                  checkUint64(o, 'startTimeUnixNano', spw);
                  checkUint64(o, 'endTimeUnixNano', spw);
                  arrayField(o, 'events', spw).forEach((ev, ei) => {
                    if (isObj(ev)) checkUint64(ev, 'timeUnixNano', `${spw}.events[${ei}]`);
                  });
                  checkIntValues(o.attributes, `${spw}.attributes`);
                  checkIntValues(o.events, `${spw}.events`);
                  o.links = arrayField(o, 'links', spw).map((l, li) => {
                    if (!isObj(l)) throw new ItemRejected(`${spw}.links[${li}] must be an object`);
                    const lc = { ...l };
                    idField(lc, 'traceId', 16, true, `${spw}.links[${li}]`);
                    idField(lc, 'spanId', 8, true, `${spw}.links[${li}]`);
                    return lc;
                  });
                },
                spw,
              ),
            );
          } catch (e) {
            if (!(e instanceof ItemRejected)) throw e;
            out.rejected++;
            if (out.rejectionMessages.length < 5) out.rejectionMessages.push(e.message);
          }
        });
        return { scope: convertHeader(t.InstrumentationScope, ss.scope, `${sw}.scope`), spans };
      }),
    };
  });
  out.binary = t.ExportTraceServiceRequest.encode(t.ExportTraceServiceRequest.fromObject({ resourceSpans })).finish();
  return out;
}

export function normaliseLogsJson(body: unknown): NormalisedJson {
  const t = otlpTypes();
  if (!isObj(body)) throw new DecodeError('request body must be a JSON object (ExportLogsServiceRequest)');
  const out: NormalisedJson = { binary: new Uint8Array(0), rejected: 0, rejectionMessages: [] };
  const resourceLogs = arrayField(body, 'resourceLogs', 'request').map((rl, i) => {
    const where = `resourceLogs[${i}]`;
    if (!isObj(rl)) throw new DecodeError(`${where} must be an object`);
    return {
      resource: convertHeader(t.Resource, rl.resource, `${where}.resource`),
      scopeLogs: arrayField(rl, 'scopeLogs', where).map((sl, j) => {
        const sw = `${where}.scopeLogs[${j}]`;
        if (!isObj(sl)) throw new DecodeError(`${sw} must be an object`);
        const logRecords: protobuf.Message[] = [];
        arrayField(sl, 'logRecords', sw).forEach((rec, k) => {
          const rw = `${sw}.logRecords[${k}]`;
          try {
            logRecords.push(
              convertItem(
                t.LogRecord,
                rec,
                o => {
                  idField(o, 'traceId', 16, false, rw);
                  idField(o, 'spanId', 8, false, rw);
                  checkUint64(o, 'timeUnixNano', rw);
                  checkUint64(o, 'observedTimeUnixNano', rw);
                  checkIntValues(o.attributes, `${rw}.attributes`);
                  checkIntValues(o.body, `${rw}.body`);
                },
                rw,
              ),
            );
          } catch (e) {
            if (!(e instanceof ItemRejected)) throw e;
            out.rejected++;
            if (out.rejectionMessages.length < 5) out.rejectionMessages.push(e.message);
          }
        });
        return { scope: convertHeader(t.InstrumentationScope, sl.scope, `${sw}.scope`), logRecords };
      }),
    };
  });
  out.binary = t.ExportLogsServiceRequest.encode(t.ExportLogsServiceRequest.fromObject({ resourceLogs })).finish();
  return out;
}
