// A log of no trace that names no circuit but a key value that correlates (an MDSO plan script's
// failure line naming only its resource_id) joins that key value's episode, and so the circuits
// its member traces name: the circuit detail listed the episode's correlation, with the script in
// it, while the circuit's logs, logCount, errorCount and status left the line out. The engine
// claims such logs for those circuits (LooseLogClaim) whenever a batch may have changed whose they
// are; the writer files and counts each log once per circuit (row-writer.ts), as it does a log that
// names several circuits.
//
// A circuit claims only the lines within the window of a trace of its own, not the whole episode:
// a resource polled every 50 s keeps one episode alive for as long as it is polled, and a circuit
// activated on it at 0 took the failure of another circuit activated on the same resource 20
// minutes later (a review). Each claim depends on times alone, so arrival order does not matter.
import type { LooseLogRow } from '../store/derived-writes.js';
import { groupMapKey, type KeyGroup, type TraceState } from './types.js';

/** A time range, both ends included. */
export interface ClaimRange {
  firstMs: number;
  lastMs: number;
}

/** Logs of no trace within [fromMs, toMs] are these circuits'. */
export interface CircuitClaim {
  fromMs: number;
  toMs: number;
  circuitIds: string[];
}

/**
 * Whether g's logs of no trace can be a circuit's through g: it holds some, and traces. A
 * circuit's own episode is left out: its logs name the circuit already, and a trace of it that
 * names another circuit too (a report over many) does not make every line of the first the other's.
 */
export function claimsLogs(g: KeyGroup): boolean {
  return g.looseLogs > 0 && g.traceIds.length > 0 && g.key !== 'trace_id' && g.key !== 'circuit_id';
}

/** The circuits these traces name, first or further, each once. */
export function circuitsNamedBy(traces: readonly Pick<TraceState, 'keys' | 'moreKeys'>[]): string[] {
  const out = new Set<string>();
  for (const t of traces) {
    if (t.keys.circuit_id !== undefined) out.add(t.keys.circuit_id);
    const more = t.moreKeys;
    for (let i = 0; i < more.length; i += 2) if (more[i] === 'circuit_id') out.add(more[i + 1]!);
  }
  return [...out];
}

/**
 * What `traces` claim within `within`: for each circuit they name, the window around each of its
 * traces ([firstMs - windowMs, lastMs + windowMs], as the episode joins data), overlapping windows
 * merged, cut to `within`. In circuit order, then by time.
 */
export function circuitClaims(
  traces: readonly Pick<TraceState, 'keys' | 'moreKeys' | 'firstMs' | 'lastMs'>[],
  windowMs: number,
  within: ClaimRange,
): CircuitClaim[] {
  const windows = new Map<string, ClaimRange[]>();
  for (const t of traces)
    for (const c of circuitsNamedBy([t])) {
      const w = { firstMs: t.firstMs - windowMs, lastMs: t.lastMs + windowMs };
      const list = windows.get(c);
      if (list) list.push(w);
      else windows.set(c, [w]);
    }
  const out: CircuitClaim[] = [];
  for (const c of [...windows.keys()].sort()) {
    const list = windows.get(c)!.sort((a, b) => a.firstMs - b.firstMs);
    let open: ClaimRange | null = null;
    const emit = (r: ClaimRange) => {
      const fromMs = Math.max(r.firstMs, within.firstMs);
      const toMs = Math.min(r.lastMs, within.lastMs);
      if (fromMs <= toMs) out.push({ fromMs, toMs, circuitIds: [c] });
    };
    for (const w of list) {
      if (open && w.firstMs <= open.lastMs) open.lastMs = Math.max(open.lastMs, w.lastMs);
      else {
        if (open) emit(open);
        open = { ...w };
      }
    }
    if (open) emit(open);
  }
  return out;
}

/** Whether the trace names a circuit, first or further. */
export function namesACircuit(t: Pick<TraceState, 'keys' | 'moreKeys'>): boolean {
  if (t.keys.circuit_id !== undefined) return true;
  for (let i = 0; i < t.moreKeys.length; i += 2) if (t.moreKeys[i] === 'circuit_id') return true;
  return false;
}

/** The times of a batch's logs of no trace, by key value (groupMapKey). */
export function looseLogTimes(rows: readonly LooseLogRow[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const mk = groupMapKey(r.key, r.value);
    const times = out.get(mk);
    if (times) times.push(r.timeMs);
    else out.set(mk, [r.timeMs]);
  }
  return out;
}

/** The least span holding those of `times` within [firstMs, lastMs]; null when none is. */
export function spanWithin(times: readonly number[] | undefined, firstMs: number, lastMs: number): { firstMs: number; lastMs: number } | null {
  let from = Infinity;
  let to = -Infinity;
  for (const t of times ?? []) {
    if (t < firstMs || t > lastMs) continue;
    if (t < from) from = t;
    if (t > to) to = t;
  }
  return from <= to ? { firstMs: from, lastMs: to } : null;
}
