// A trace's candidate bridge parents as hot state keeps them (engine.ts), rebuilt from its chunk
// records when the trace is read back (a restart, or hot state evicted it): its spans taken in as
// ingest takes them (CandidateSpans.offer), the calls with where they went. Where a call went is in its span's bytes,
// not in the record; only the calls' bytes are read (all of them: which calls are kept depends on
// where each went), where keeping the destination on the record would widen every span's record
// and rewrite the schema for what loading alone needs.
import type { TraceState } from '../../correlation/types.js';
import { isCallKind, storedCallDestination, type CallDestination } from '../../otlp/call-destination.js';
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
  const spans = traces.map(t => tracePlaces(chunks.get(t.traceId) ?? []));
  const calls = spans.flat().filter(p => isCallKind(chunkRecord.kind(p.meta, p.slot)));
  const bytes = calls.length > 0 ? spanBytes(calls) : [];
  const destinations = new Map<StoredSpanPlace, CallDestination | null>(
    calls.map((p, i) => [p, bytes[i] ? storedCallDestination(bytes[i]) : null]),
  );
  traces.forEach((t, i) => {
    for (const p of spans[i]!) {
      const { meta, slot } = p;
      t.candidates.offer(
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

/** Where each of the trace's spans is, in the order its chunks were written. */
function tracePlaces(chunks: readonly { chunkId: number; meta: Buffer }[]): StoredSpanPlace[] {
  const places: StoredSpanPlace[] = [];
  for (const { chunkId, meta } of chunks)
    for (let slot = 0, n = chunkRecord.count(meta); slot < n; slot++) places.push({ chunkId, meta, slot });
  return places;
}
