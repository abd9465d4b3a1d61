// Hot state's bounds as the heap allows them. MAX_TRACKED_TRACES and MAX_TRACKED_KEYS count
// entries, not bytes: at their defaults hot state needs ~180 MiB of heap, and a correlator started
// with --max-old-space-size=128 died of "Reached heap limit" at 283k traces, never having evicted
// one. The bounds are lowered, together, to what fits a share of the old generation once the app
// itself is set aside; the rest is left for the requests in flight and garbage between
// collections. The app alone holds 28 MiB once ready (live after a full collection, Node 20,
// 2026-12-07). With half of the whole heap, a 128 MiB heap whose hot state was full to the bounds
// had 110 MiB in use after a collection, under 4 clients sending 9,000 spans a request: past the
// high mark of runtime/heap-pressure.ts. With 40% of it, a 64 MiB heap held 28 + 26 MiB before
// any request, and 8 clients sending 1,000 new traces a request filled it before a full collection
// could call for relief (V8 stopped the process, once in five full test runs).
//
// What an entry costs was measured on realistic traces (bench payloads, Node 20, 2026-12-07):
// a live trace or key group (tiered-map.ts) ~2.0 KiB; an encoded one only its key and a Map slot
// on the heap, ~95 B for a trace and ~125 B for a key group, up to a third more just after a
// Map's table doubled. The costs below round those up.
//
// A live key group that is planned also keeps its members' calls that name a service (its
// PlanOrder's naming index), and that grows with its members and their calls, not its count: on
// the bench payloads 2.7 KiB a planned group, 1.3 KiB averaged over the 8,192 live groups (11 MB
// at 100k traces, the ~112 B/trace the bench's 1,616 → 1,728 B/trace showed); with call-heavy
// traces (an MDSO plan script, 100 named calls a trace) ~2.4 KiB a member, and a group of 50 such
// members with its per-service lists made ~660 KiB (Node 20, 2026-12-07). No flat cost per entry
// holds both, so the engine counts the indexes' bytes as members are added and dropped
// (NamingIndex.bytes, within a quarter of the heap measured) and drops the least recently used
// orders past liveEntries × namingIndex (plan-orders.ts): a group without one plans from its
// members' states. 2 KiB a live group leaves the bench's traffic half again its need.

export interface HotStateBounds {
  traces: number;
  keys: number;
  /** Traces, and key groups, kept as live objects between batches (tiered-map.ts). */
  liveEntries: number;
}

export interface HotStateCosts {
  liveTrace: number;
  liveKey: number;
  trace: number;
  key: number;
  /**
   * What a live key group's naming index may hold, on average over the live groups: the engine
   * counts the indexes' bytes and drops planning orders past liveEntries times this (plan-orders.ts).
   */
  namingIndex: number;
}

export const HOT_STATE_COSTS: HotStateCosts = {
  liveTrace: 2100,
  liveKey: 2100,
  trace: 128,
  key: 160,
  namingIndex: 2048,
};
/**
 * What the live tier's traces and key groups may hold, in bytes of heap as live-entry-bytes.ts
 * estimates them: the live entries the budget counts, at the cost it counts them at. The engine
 * encodes the longest live entries past it (tiered-map.ts), so the budget's liveTrace and liveKey
 * bound what those entries hold whatever their shape, not only on traffic like the bench's.
 */
export function liveTierAllowance(
  b: HotStateBounds,
  costs: HotStateCosts = HOT_STATE_COSTS,
): { traces: number; keys: number } {
  return {
    traces: Math.min(b.liveEntries, b.traces) * costs.liveTrace,
    keys: Math.min(b.liveEntries, b.keys) * costs.liveKey,
  };
}

/** What hot state may take of the old generation: a share of what the app leaves. */
export interface HotStateRoom {
  /** Set aside for the app itself, hot state apart. */
  reserveBytes: number;
  /** The share of the rest. */
  share: number;
}

export const HOT_STATE_ROOM: HotStateRoom = { reserveBytes: 40 * 2 ** 20, share: 0.5 };
/** The least either bound is lowered to: MAX_TRACKED_TRACES's and MAX_TRACKED_KEYS's own minimum. */
const MIN_TRACKED = 100;
const MIN_LIVE = 256;

export interface HotStateBudget {
  bounds: HotStateBounds;
  /** What the configured bounds would take, in bytes of heap. */
  neededBytes: number;
  /** What hot state may take of the old generation. */
  budgetBytes: number;
  /** The old generation that would hold the configured bounds (--max-old-space-size). */
  heapNeededBytes: number;
  lowered: boolean;
}

/** Bytes of heap hot state takes when full to these bounds. */
export function hotStateHeapBytes(
  b: HotStateBounds,
  costs: HotStateCosts = HOT_STATE_COSTS,
): number {
  const liveTraces = Math.min(b.liveEntries, b.traces);
  const liveKeys = Math.min(b.liveEntries, b.keys);
  return (
    liveTraces * costs.liveTrace +
    liveKeys * (costs.liveKey + costs.namingIndex) +
    b.traces * costs.trace +
    b.keys * costs.key
  );
}

/** The configured bounds, or all three scaled down by one factor to fit hot state's room in the heap. */
export function hotStateBudget(
  configured: HotStateBounds,
  oldGenerationBytes: number,
  room: HotStateRoom = HOT_STATE_ROOM,
  costs: HotStateCosts = HOT_STATE_COSTS,
): HotStateBudget {
  const budgetBytes = Math.floor(Math.max(0, oldGenerationBytes - room.reserveBytes) * room.share);
  const neededBytes = hotStateHeapBytes(configured, costs);
  const heapNeededBytes = room.reserveBytes + Math.ceil(neededBytes / room.share);
  if (neededBytes <= budgetBytes)
    return { bounds: configured, neededBytes, budgetBytes, heapNeededBytes, lowered: false };
  // Scaling every bound by f scales the bytes by f (min(f·a, f·b) = f·min(a, b)), so one factor
  // brings them within budget; the floors may keep a tiny heap over it.
  const f = budgetBytes / neededBytes;
  const scale = (n: number, least: number) => Math.min(n, Math.max(least, Math.floor(n * f)));
  return {
    bounds: {
      traces: scale(configured.traces, MIN_TRACKED),
      keys: scale(configured.keys, MIN_TRACKED),
      liveEntries: scale(configured.liveEntries, MIN_LIVE),
    },
    neededBytes,
    budgetBytes,
    heapNeededBytes,
    lowered: true,
  };
}
