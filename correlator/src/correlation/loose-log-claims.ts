// A log of no trace that names no circuit but a key value that correlates (an MDSO plan script's
// failure line naming only its resource_id) joins that key value's episode, and so the circuits
// its member traces name: the circuit detail listed the episode's correlation, with the script in
// it, while the circuit's logs, logCount, errorCount and status left the line out. The engine
// claims such logs for those circuits (LooseLogClaim) whenever a batch may have changed whose they
// are; the writer files and counts each log once per circuit (row-writer.ts), as it does a log that
// names several circuits.
import type { LooseLogRow } from '../store/derived-writes.js';
import { groupMapKey, type KeyGroup, type TraceState } from './types.js';

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
 * The circuits `members` name: `known`, those named by a member outside `changed` (each claimed
 * its episode's logs when it came), and `added`, those only the `changed` ones name.
 */
export function splitCircuits(
  members: readonly Pick<TraceState, 'traceId' | 'keys' | 'moreKeys'>[],
  changed: ReadonlySet<string> | undefined,
): { known: string[]; added: string[] } {
  const known = circuitsNamedBy(changed ? members.filter(t => !changed.has(t.traceId)) : members);
  const added = changed ? circuitsNamedBy(members.filter(t => changed.has(t.traceId))).filter(c => !known.includes(c)) : [];
  return { known, added };
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
