// What the heap has room for in ingest request bodies. MAX_INFLIGHT_BYTES (256 MiB by default)
// bounds the bytes of bodies held at once, but not what working on them costs the heap: a request
// holds its JSON text, the parsed tree, the normalised and decoded spans until it is answered. On
// a 64 MiB heap whose store already held circuits, 24 clients sending 800 spans a request (mixed
// JSON and protobuf) left hot state and the app at 45 of 64 MiB after a full collection, and the
// requests admitted once heap pressure ended filled the rest within seconds: V8 stopped the process
// ("Reached heap limit") in 3 of 5 runs (RV7, 2026-12-07).
//
// So the bodies in flight are also held to what the heap has room for: the old generation up to
// heap pressure's high mark, less what the last full collection left in use, divided by what a
// body costs the heap per byte counted (as received and as inflated). That reading counts what
// the requests in flight then held as well: it errs towards letting in fewer. On a normal heap
// the room is far above MAX_INFLIGHT_BYTES, which then bounds as before.
import { HEAP_MARKS, type HeapMarks, type HeapReading } from './heap-pressure.js';

/**
 * Heap bytes an ingest request holds per body byte counted against MAX_INFLIGHT_BYTES, rounded up
 * from what requests of 800 spans held once decoded (text, tree, normalised and decoded batch;
 * Node 20, 2026-12-07): 3.5–3.9× for JSON, plain or gzip, and 3.0–3.7× for protobuf. Correlating
 * and storing a batch takes more while it runs, hence the margin.
 */
export const HEAP_BYTES_PER_BODY_BYTE = 6;

/** Body bytes that fit beside the heap in use, up to the high mark: 0 when none do. */
export function bodyBytesHeapAllows(
  reading: HeapReading,
  marks: HeapMarks = HEAP_MARKS,
  heapBytesPerBodyByte: number = HEAP_BYTES_PER_BODY_BYTE,
): number {
  const room = reading.limitBytes * marks.high - reading.usedBytes;
  return Math.max(0, Math.floor(room / heapBytesPerBodyByte));
}
