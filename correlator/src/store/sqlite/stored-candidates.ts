// A trace's candidate bridge parents as hot state keeps them (engine.ts), rebuilt from its chunk
// records when the trace is read back (a restart, or hot state evicted it): its earliest-starting
// spans, and for the calls among them where they went. Where a call went is in its span's bytes,
// not in the record; only those few spans' bytes are read, where keeping the destination on the
// record would widen every span's record and rewrite the schema for what loading alone needs.
import { MAX_CANDIDATES, candidateOrder } from '../../correlation/candidate-spans.js';
import type { TraceState } from '../../correlation/types.js';
import { isCallKind, storedCallDestination } from '../../otlp/call-destination.js';
import { chunkRecord } from './span-chunk.js';

/** Where one span's bytes are: record `slot` of chunk `chunkId`, whose records are `meta`. */
export interface StoredSpanPlace {
  chunkId: number;
  meta: Buffer;
  slot: number;
}

/**
 * Fills each trace's (empty) candidates from its chunks, `chunks` in the order their rows were
 * written. `spanBytes` reads the bytes of the given spans (undefined for a span no longer stored).
 */
export function fillStoredCandidates(
  traces: readonly TraceState[],
  chunks: ReadonlyMap<string, readonly { chunkId: number; meta: Buffer }[]>,
  serviceOf: (resourceId: number) => string,
  spanBytes: (places: readonly StoredSpanPlace[]) => (Uint8Array | undefined)[],
): void {
  const picked = traces.map(t => keptSpans(chunks.get(t.traceId) ?? []));
  const calls = picked.flat().filter(p => isCallKind(chunkRecord.kind(p.meta, p.slot)));
  const bytes = calls.length > 0 ? spanBytes(calls) : [];
  const destinations = new Map(calls.map((p, i) => [p, bytes[i] ? storedCallDestination(bytes[i]) : null]));
  traces.forEach((t, i) => {
    for (const p of picked[i]!) {
      const { meta, slot } = p;
      t.candidates.push(
        chunkRecord.spanId(meta, slot),
        serviceOf(chunkRecord.resourceId(meta, slot)),
        chunkRecord.startMs(meta, slot),
        chunkRecord.endMs(meta, slot),
        chunkRecord.kind(meta, slot),
        destinations.get(p) ?? null,
      );
    }
  });
}

/** The trace's MAX_CANDIDATES spans hot state keeps: calls first, then by start, ties by span id (candidateOrder). */
function keptSpans(chunks: readonly { chunkId: number; meta: Buffer }[]): StoredSpanPlace[] {
  const spans: (StoredSpanPlace & { kind: number; startMs: number; spanId: string })[] = [];
  for (const { chunkId, meta } of chunks)
    for (let slot = 0, n = chunkRecord.count(meta); slot < n; slot++)
      spans.push({ chunkId, meta, slot, kind: chunkRecord.kind(meta, slot), startMs: chunkRecord.startMs(meta, slot), spanId: chunkRecord.spanId(meta, slot) });
  spans.sort(candidateOrder);
  return spans.slice(0, MAX_CANDIDATES).map(({ chunkId, meta, slot }) => ({ chunkId, meta, slot }));
}
