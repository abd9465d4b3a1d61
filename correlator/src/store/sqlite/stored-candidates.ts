// A trace's candidate bridge parents as hot state keeps them (engine.ts), rebuilt from its chunk
// records when the trace is read back (a restart, or hot state evicted it): keptCandidates of its
// spans, and for the calls among them where they went. Where a call went is in its span's bytes,
// not in the record; only the calls' bytes are read (all of them: which calls are kept depends on
// where each went), where keeping the destination on the record would widen every span's record
// and rewrite the schema for what loading alone needs.
import { keptCandidates } from '../../correlation/candidate-spans.js';
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
    const places = spans[i]!;
    const ranked = places.map(p => ({
      kind: chunkRecord.kind(p.meta, p.slot),
      startMs: chunkRecord.startMs(p.meta, p.slot),
      spanId: chunkRecord.spanId(p.meta, p.slot),
      destinationName: destinations.get(p)?.name ?? '',
    }));
    for (const j of keptCandidates(ranked)) {
      const p = places[j]!;
      const { meta, slot } = p;
      t.candidates.push(
        ranked[j]!.spanId,
        serviceOf(chunkRecord.resourceId(meta, slot)),
        ranked[j]!.startMs,
        chunkRecord.endMs(meta, slot),
        ranked[j]!.kind,
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
