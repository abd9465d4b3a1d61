// What a live trace or key group holds on the heap, estimated from its counts: the live tier of hot
// state is bounded by these bytes (tiered-map.ts), not only by its number of entries. A flat cost per
// entry (HOT_STATE_COSTS) held for the bench's traces of ~10 spans, ~2 KiB each, but a trace of 100
// spans holds ~8 KiB (its 100 bridge candidates) and a circuit of ~300 traces ~100 KiB (its members
// and bridges): with such traffic the live tier took 4–50 times what the budget reserved for it.
//
// Each estimate reads lengths and a few short strings, never a list's items, so re-counting an
// entry each batch it changes costs what a field read does. Shapes as V8 lays them out on Node 20
// (heap-sizes.ts); the constants were checked against the heap measured after full collections
// (test/correlation/live-entry-bytes.test.ts).
import { BOXED_DOUBLE_BYTES, hashTableBytes, pushedArrayBytes, SLOT_BYTES, stringBytes } from './heap-sizes.js';
import type { KeyGroup, TraceState } from './types.js';

/**
 * What an entry costs live beyond what it costs encoded, which hot state's budget counts apart (its
 * key and a slot in the encoded tier's Map): the live Map's slot is the encoded one's, and the Map
 * of counted bytes adds one, at the three-quarters load such tables average. Its key is the trace's
 * id, or the group's mapKey, kept either way.
 */
const LIVE_SLOTS_BYTES = 4 * SLOT_BYTES;
/** An object's map, properties and elements pointers. */
const OBJECT_BYTES = 3 * SLOT_BYTES;
/**
 * A name (service, span name): a trace made by ingest shares its services' names with the other
 * traces of its request, one read back has copies of its own; half a name of 24 characters each.
 */
const NAME_BYTES = stringBytes(24) / 2;
const SPAN_ID_BYTES = stringBytes(16);
const TRACE_ID_BYTES = stringBytes(32);

/** TraceState: 14 fields, 3 of them doubles; EntrySpan: 6 fields, 2 doubles. */
const TRACE_BYTES = OBJECT_BYTES + 14 * SLOT_BYTES + 3 * BOXED_DOUBLE_BYTES;
const ENTRY_BYTES = OBJECT_BYTES + 6 * SLOT_BYTES + 2 * BOXED_DOUBLE_BYTES + SPAN_ID_BYTES + NAME_BYTES;
/** CandidateSpans' object, of three arrays. */
const CANDIDATES_BYTES = OBJECT_BYTES + 3 * SLOT_BYTES;
/**
 * A keys object with its in-object room for four values, and three values of 24 characters: a trace
 * names one to six keys, three on the bench's traffic. Taken as three, not walked: a for-in over them
 * cost as much as all the rest of a trace's estimate.
 */
const KEYS_BYTES = OBJECT_BYTES + 4 * SLOT_BYTES + 3 * stringBytes(24);

/** KeyGroup: 18 fields, 3 of them doubles. */
const GROUP_BYTES = OBJECT_BYTES + 18 * SLOT_BYTES + 3 * BOXED_DOUBLE_BYTES;
/** BridgePlan: 14 fields, 3 doubles, and its own copies of 7 ids and names (planned from states read afresh); its basis is a literal. */
const BRIDGE_BYTES =
  OBJECT_BYTES + 14 * SLOT_BYTES + 3 * BOXED_DOUBLE_BYTES + 3 * SPAN_ID_BYTES + 2 * TRACE_ID_BYTES + 2 * NAME_BYTES;

export function traceStateBytes(t: TraceState): number {
  let bytes = LIVE_SLOTS_BYTES + TRACE_BYTES;
  bytes += pushedArrayBytes(t.services.length) + t.services.length * NAME_BYTES;
  if (t.entry) bytes += ENTRY_BYTES;
  const c = t.candidates;
  const n = c.length;
  bytes += CANDIDATES_BYTES + pushedArrayBytes(n) + n * SPAN_ID_BYTES + pushedArrayBytes(3 * n);
  bytes += pushedArrayBytes(c.nameCount) + c.nameCount * NAME_BYTES;
  bytes += KEYS_BYTES;
  bytes += pushedArrayBytes(t.moreKeys.length) + (t.moreKeys.length / 2) * NAME_BYTES;
  bytes += pushedArrayBytes(t.linkedTraceIds.length) + t.linkedTraceIds.length * TRACE_ID_BYTES;
  return bytes;
}

export function keyGroupBytes(g: KeyGroup): number {
  let bytes = LIVE_SLOTS_BYTES + GROUP_BYTES;
  bytes += stringBytes(g.id.length) + stringBytes(g.value.length);
  const members = g.traceIds.length;
  bytes += pushedArrayBytes(members) + members * TRACE_ID_BYTES + hashTableBytes(members, 2);
  bytes += pushedArrayBytes(g.services.length) + g.services.length * NAME_BYTES;
  if (g.bridges) bytes += hashTableBytes(g.bridges.size, 3) + g.bridges.size * BRIDGE_BYTES;
  return bytes;
}
