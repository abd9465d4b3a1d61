// Hot-state entries in the byte form of the encoded tier of TieredMap (state-bytes.ts), field by
// field in a fixed order. Times and counts are doubles as they are, so infinities (a trace with no
// timed datum yet) and sub-millisecond fractions come back exactly; only lengths are varints.
import type { BridgeBasis, BusinessKeyName } from '@correlation-station/api-schema';
import type { KeyValues } from '../otlp/decoded.js';
import { CandidateSpans } from './candidate-spans.js';
import { StateReader, StateWriter } from './state-bytes.js';
import type { StateCodec } from './tiered-map.js';
import type { BridgePlan, EntrySpan, KeyGroup, TraceState } from './types.js';

// One writer for both codecs: the tier copies an entry's bytes before the next one is encoded.
const writer = new StateWriter();

function writeKeys(w: StateWriter, keys: KeyValues): void {
  let n = 0;
  for (const _ in keys) n++;
  w.uint(n);
  for (const k in keys) w.string(k).string(keys[k as BusinessKeyName]!);
}

function readKeys(r: StateReader): KeyValues {
  const keys: KeyValues = {};
  for (let n = r.uint(); n > 0; n--) {
    const k = r.string() as BusinessKeyName;
    keys[k] = r.string();
  }
  return keys;
}

function writeEntry(w: StateWriter, e: EntrySpan | null): void {
  if (!e) {
    w.bool(false);
    return;
  }
  w.bool(true)
    .string(e.spanId)
    .string(e.service)
    .string(e.name)
    .double(e.startMs)
    .double(e.endMs)
    .bool(e.hasParent);
}

function readEntry(r: StateReader): EntrySpan | null {
  if (!r.bool()) return null;
  return {
    spanId: r.string(),
    service: r.string(),
    name: r.string(),
    startMs: r.double(),
    endMs: r.double(),
    hasParent: r.bool(),
  };
}

export const traceStateCodec: StateCodec<TraceState> = {
  encode(t) {
    const w = writer.start();
    const [ids, numbers, services] = t.candidates.parts();
    w.string(t.traceId).strings(t.services).double(t.firstMs).double(t.lastMs).double(t.spanLastMs);
    w.double(t.spanCount).double(t.errorCount).double(t.errorLogCount).double(t.logCount);
    writeEntry(w, t.entry);
    w.strings(ids).doubles(numbers).strings(services);
    writeKeys(w, t.keys);
    w.strings(t.linkedTraceIds).strings(t.moreKeys);
    return w.finish();
  },
  decode(bytes) {
    const r = new StateReader(bytes);
    const traceId = r.string();
    const services = r.strings();
    const firstMs = r.double();
    const lastMs = r.double();
    const spanLastMs = r.double();
    const spanCount = r.double();
    const errorCount = r.double();
    const errorLogCount = r.double();
    const logCount = r.double();
    const entry = readEntry(r);
    const candidates = new CandidateSpans(r.strings(), r.doubles(), r.strings());
    const keys = readKeys(r);
    const linkedTraceIds = r.strings();
    const moreKeys = r.strings();
    return {
      traceId,
      services,
      firstMs,
      lastMs,
      spanLastMs,
      spanCount,
      errorCount,
      errorLogCount,
      logCount,
      entry,
      candidates,
      keys,
      moreKeys,
      linkedTraceIds,
    };
  },
};

function writeBridge(w: StateWriter, child: string, p: BridgePlan): void {
  w.string(child)
    .string(p.spanId)
    .string(p.traceId)
    .string(p.parentSpanId)
    .string(p.parentService)
    .double(p.parentStartMs);
  w.string(p.childTraceId).string(p.childSpanId).string(p.childService).double(p.childStartMs);
  w.string(p.key).string(p.value).string(p.method).double(p.confidence).string(p.basis);
}

function readBridge(r: StateReader): [string, BridgePlan] {
  const child = r.string();
  return [
    child,
    {
      spanId: r.string(),
      traceId: r.string(),
      parentSpanId: r.string(),
      parentService: r.string(),
      parentStartMs: r.double(),
      childTraceId: r.string(),
      childSpanId: r.string(),
      childService: r.string(),
      childStartMs: r.double(),
      key: r.string() as BusinessKeyName,
      value: r.string(),
      method: r.string(),
      confidence: r.double(),
      basis: r.string() as BridgeBasis,
    },
  ];
}

export const keyGroupCodec: StateCodec<KeyGroup> = {
  encode(g) {
    const w = writer.start();
    w.string(g.mapKey)
      .string(g.id)
      .string(g.method)
      .string(g.key)
      .string(g.value)
      .double(g.confidence);
    w.double(g.firstMs).double(g.lastMs).strings(g.traceIds).strings(g.services);
    w.double(g.spanCount).double(g.logCount).double(g.looseLogs);
    if (g.bridges) {
      w.bool(true).uint(g.bridges.size);
      for (const [child, plan] of g.bridges) writeBridge(w, child, plan);
    } else w.bool(false);
    w.double(g.persistedMembers).bool(g.planned).bool(g.reachUnmerged);
    return w.finish();
  },
  decode(bytes) {
    const r = new StateReader(bytes);
    const mapKey = r.string();
    const id = r.string();
    const method = r.string();
    const key = r.string() as BusinessKeyName | 'trace_id';
    const value = r.string();
    const confidence = r.double();
    const firstMs = r.double();
    const lastMs = r.double();
    const traceIds = r.strings();
    const services = r.strings();
    const spanCount = r.double();
    const logCount = r.double();
    const looseLogs = r.double();
    let bridges: Map<string, BridgePlan> | null = null;
    if (r.bool()) {
      bridges = new Map();
      for (let n = r.uint(); n > 0; n--) {
        const [child, plan] = readBridge(r);
        bridges.set(child, plan);
      }
    }
    const persistedMembers = r.double();
    const planned = r.bool();
    const reachUnmerged = r.bool();
    return {
      mapKey,
      id,
      method,
      key,
      value,
      confidence,
      firstMs,
      lastMs,
      traceIds,
      traceSet: new Set(traceIds),
      services,
      spanCount,
      logCount,
      looseLogs,
      bridges,
      persistedMembers,
      planned,
      reachUnmerged,
    };
  },
};
