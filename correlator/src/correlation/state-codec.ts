// Hot-state entries as compact strings for the encoded tier of TieredMap: positional JSON arrays,
// which V8 writes and parses natively. Times that may be ±Infinity (a trace with no timed datum
// yet) are written as strings, since JSON has no infinities.
import type { BusinessKeyName } from '@correlation-station/api-schema';
import type { KeyValues } from '../otlp/decoded.js';
import { CandidateSpans } from './candidate-spans.js';
import type { StateCodec } from './tiered-map.js';
import type { BridgePlan, EntrySpan, KeyGroup, TraceState } from './types.js';

type Time = number | string;

function time(ms: number): Time {
  return Number.isFinite(ms) ? ms : String(ms);
}

function untime(t: Time): number {
  return typeof t === 'number' ? t : Number(t);
}

function finiteNumbers(numbers: number[]): (number | string)[] {
  for (const n of numbers) if (!Number.isFinite(n)) return numbers.map(time);
  return numbers;
}

type EncodedEntry = [spanId: string, service: string, name: string, startMs: Time, endMs: Time, hasParent: 0 | 1];
type EncodedTrace = [
  traceId: string,
  services: string[],
  firstMs: Time,
  lastMs: Time,
  spanCount: number,
  errorCount: number,
  logCount: number,
  entry: EncodedEntry | null,
  candidateIds: string[],
  candidateNumbers: Time[],
  candidateServices: string[],
  keys: KeyValues,
  linkedTraceIds: string[],
];

export const traceStateCodec: StateCodec<TraceState> = {
  encode(t) {
    const e = t.entry;
    const [ids, numbers, services] = t.candidates.parts();
    const encoded: EncodedTrace = [
      t.traceId,
      t.services,
      time(t.firstMs),
      time(t.lastMs),
      t.spanCount,
      t.errorCount,
      t.logCount,
      e ? [e.spanId, e.service, e.name, time(e.startMs), time(e.endMs), e.hasParent ? 1 : 0] : null,
      ids,
      finiteNumbers(numbers),
      services,
      t.keys,
      t.linkedTraceIds,
    ];
    return JSON.stringify(encoded);
  },
  decode(s) {
    const [traceId, services, firstMs, lastMs, spanCount, errorCount, logCount, e, ids, numbers, candidateServices, keys, linkedTraceIds] =
      JSON.parse(s) as EncodedTrace;
    const entry: EntrySpan | null = e
      ? { spanId: e[0], service: e[1], name: e[2], startMs: untime(e[3]), endMs: untime(e[4]), hasParent: e[5] === 1 }
      : null;
    return {
      traceId,
      services,
      firstMs: untime(firstMs),
      lastMs: untime(lastMs),
      spanCount,
      errorCount,
      logCount,
      entry,
      candidates: new CandidateSpans(ids, numbers.map(untime), candidateServices),
      keys,
      linkedTraceIds,
    };
  },
};

type EncodedBridge = [
  child: string,
  spanId: string,
  traceId: string,
  parentSpanId: string,
  parentService: string,
  parentStartMs: Time,
  childTraceId: string,
  childSpanId: string,
  childService: string,
  childStartMs: Time,
  key: BusinessKeyName,
  value: string,
  method: string,
  confidence: number,
];
type EncodedGroup = [
  mapKey: string,
  id: string,
  method: string,
  key: BusinessKeyName | 'trace_id',
  value: string,
  confidence: number,
  firstMs: Time,
  lastMs: Time,
  traceIds: string[],
  services: string[],
  spanCount: number,
  logCount: number,
  bridges: EncodedBridge[] | null,
  persistedMembers: number,
];

function encodeBridge(child: string, p: BridgePlan): EncodedBridge {
  return [
    child,
    p.spanId,
    p.traceId,
    p.parentSpanId,
    p.parentService,
    time(p.parentStartMs),
    p.childTraceId,
    p.childSpanId,
    p.childService,
    time(p.childStartMs),
    p.key,
    p.value,
    p.method,
    p.confidence,
  ];
}

function decodeBridge(b: EncodedBridge): [string, BridgePlan] {
  return [
    b[0],
    {
      spanId: b[1],
      traceId: b[2],
      parentSpanId: b[3],
      parentService: b[4],
      parentStartMs: untime(b[5]),
      childTraceId: b[6],
      childSpanId: b[7],
      childService: b[8],
      childStartMs: untime(b[9]),
      key: b[10],
      value: b[11],
      method: b[12],
      confidence: b[13],
    },
  ];
}

export const keyGroupCodec: StateCodec<KeyGroup> = {
  encode(g) {
    const bridges: EncodedBridge[] | null = g.bridges ? [] : null;
    if (g.bridges) for (const [child, plan] of g.bridges) bridges!.push(encodeBridge(child, plan));
    const encoded: EncodedGroup = [
      g.mapKey,
      g.id,
      g.method,
      g.key,
      g.value,
      g.confidence,
      time(g.firstMs),
      time(g.lastMs),
      g.traceIds,
      g.services,
      g.spanCount,
      g.logCount,
      bridges,
      g.persistedMembers,
    ];
    return JSON.stringify(encoded);
  },
  decode(s) {
    const [mapKey, id, method, key, value, confidence, firstMs, lastMs, traceIds, services, spanCount, logCount, bridges, persistedMembers] =
      JSON.parse(s) as EncodedGroup;
    return {
      mapKey,
      id,
      method,
      key,
      value,
      confidence,
      firstMs: untime(firstMs),
      lastMs: untime(lastMs),
      traceIds,
      traceSet: new Set(traceIds),
      services,
      spanCount,
      logCount,
      bridges: bridges ? new Map(bridges.map(decodeBridge)) : null,
      persistedMembers,
    };
  },
};
