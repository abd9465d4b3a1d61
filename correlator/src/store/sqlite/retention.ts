// Retention, trace by trace. A trace goes whole (its row, span chunks, bridges, memberships and
// links) once its last datum is older than the cutoff; its logs go with it, and so do logs of no
// trace that are older. What the remaining data is summed into (circuits, correlations) is then
// counted again from what is left: deleting by age alone left summaries counting deleted spans,
// traces, logs and bridges, and correlations naming deleted traces.
import type Database from 'better-sqlite3';
import type { PruneCounts } from '../store.js';
import type { ThinnedEpisode, TouchedState } from '../../correlation/engine.js';
import { groupMapKey } from '../../correlation/types.js';
import { forEachKeyValue, traceKeyValuesOf } from '../trace-key-values.js';
import { RetentionRecount } from './retention-recount.js';
import { SWEEP_PACING, SlicePace, type SweepPacing } from '../slice-pace.js';
import { SummaryRepair } from './summary-repair.js';

interface GoneTrace {
  id: number;
  trace_id: string;
  keys: string;
  /** Further key values, as key, value pairs (schema 5): a trace that names several circuits. */
  more_keys: string;
}

type NoteGroup = (key: string, value: string) => void;

/** The `meta` row of the episodes slices thinned whose bridges are not planned again yet. */
const REPLANS_PENDING = 'retention_replans_pending';

/** The episodes retention thinned whose bridges were not planned again yet (pruneInSlices). */
export function replansPending(db: Database.Database): ThinnedEpisode[] {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(REPLANS_PENDING) as string | undefined;
  return row === undefined ? [] : (JSON.parse(row) as ThinnedEpisode[]);
}

/** They are planned: the row goes. */
export function replansDone(db: Database.Database): void {
  db.prepare('DELETE FROM meta WHERE key = ?').run(REPLANS_PENDING);
}

function statements(db: Database.Database) {
  const inJson = 'IN (SELECT value FROM json_each(?))';
  return {
    keepReplans: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    // Oldest first by the traces_last index: a sweep stopped part-way has deleted the oldest.
    oldTraces: db.prepare('SELECT id, trace_id, keys, more_keys FROM traces WHERE last_ms < ? ORDER BY last_ms LIMIT +?'),
    chunks: db.prepare(`DELETE FROM span_chunks WHERE trace_ref ${inJson} RETURNING span_count`).pluck(),
    // A bridge row is its bridge span too.
    bridgesFrom: db.prepare(`DELETE FROM bridges WHERE parent_ref ${inJson}`),
    bridgesTo: db.prepare(`DELETE FROM bridges WHERE child_ref ${inJson}`),
    // A trace a full episode refused has a row of its own kind (schema.ts, version 8); key, value, trace id triples.
    memberships: ['trace_keys', 'refused_traces'].map(table =>
      db.prepare(`DELETE FROM ${table} WHERE (key, value, trace_id) IN (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))`),
    ),
    linksFrom: db.prepare(`DELETE FROM links WHERE source_trace_id ${inJson}`),
    linksTo: db.prepare(`DELETE FROM links WHERE target_trace_id ${inJson}`),
    // `!= ''` lets the planner read logs_trace, an index of such rows only, rather than every log.
    logsOfTraces: db.prepare(`SELECT id FROM logs WHERE trace_id ${inJson} AND trace_id != ''`).pluck(),
    // A trace's own spans-and-logs correlation has no member left once the trace is gone.
    traceCorrelations: db.prepare(`DELETE FROM correlations WHERE key = 'trace_id' AND value ${inJson}`),
    traces: db.prepare(`DELETE FROM traces WHERE id ${inJson}`),
    // Logs of no trace (or of a trace never stored) that are older than the cutoff.
    oldLogs: db
      .prepare(`SELECT id FROM logs WHERE time_ms < ? AND (trace_id = '' OR trace_id NOT IN (SELECT trace_id FROM traces)) ORDER BY time_ms LIMIT +?`)
      .pluck(),
    // A log's further circuits (log-circuits.ts) go with it: a row left behind would file a later
    // log that got the same id (SQLite gives the highest id again) under those circuits.
    logCircuits: db.prepare(`DELETE FROM log_circuits WHERE log_id ${inJson} RETURNING circuit_id`).pluck(),
    logs: db.prepare(`DELETE FROM logs WHERE id ${inJson} RETURNING coalesce(circuit_id, '')`).pluck(),
    // Their key values' index rows (schema.ts, version 6), by the same age.
    oldLooseLogs: db.prepare(
      'DELETE FROM loose_logs WHERE rowid IN (SELECT rowid FROM loose_logs WHERE time_ms < ? LIMIT +?) RETURNING key, value',
    ),
    // Memberships and bridges whose trace row is gone some other way. A bridge goes with its traces
    // (above), not by its child's start: a kept trace that started before the cutoff lost its
    // bridge, and only an episode planned again whole brought it back.
    strayMemberships: ['trace_keys', 'refused_traces'].map(table =>
      db.prepare(`DELETE FROM ${table} WHERE last_ms < ? AND trace_id NOT IN (SELECT trace_id FROM traces)`),
    ),
    strayBridges: db.prepare(
      'DELETE FROM bridges WHERE child_start_ms < ? AND (child_ref NOT IN (SELECT id FROM traces) OR parent_ref NOT IN (SELECT id FROM traces)) RETURNING key, value',
    ),
    // Services of an hour whose traces there are all gone (service-hours.ts).
    serviceHours: db.prepare('DELETE FROM service_hours WHERE last_ms < ?'),
  };
}

type Statements = ReturnType<typeof statements>;

/**
 * The sweep a slice (one transaction) per step, oldest traces first: a caller that yields between
 * steps keeps serving while a large backlog is deleted, and the writer thread gets the write lock
 * between slices. Each slice recounts what it touched before it commits, so a sweep part-way (or
 * stopped by a crash, a kill or the app closing) leaves summaries that count only what is left,
 * and the next sweep carries on. Each step yields what hot state may hold of the slice's data.
 * Slices are sized by `pacing` (slice-pace.ts) to take about its budget each. A store not yet
 * read for summaries earlier sweeps left counting deleted traces is read first (summary-repair.ts).
 * `beforeSlice` runs before each slice, outside what its size is measured by.
 */
export function* pruneInSlices(
  db: Database.Database,
  cutoffMs: number,
  pacing: Partial<SweepPacing> = {},
  beforeSlice: () => void = () => {},
): Generator<TouchedState, PruneCounts> {
  const result: PruneCounts = {
    spans: 0,
    logs: 0,
    traces: 0,
    circuits: 0,
    correlations: 0,
  };
  const { clock, budgetMs, ...bounds } = { ...SWEEP_PACING, ...pacing };
  const pace = (kind: keyof typeof bounds) => new SlicePace(clock, budgetMs, bounds[kind]);
  const st = statements(db);
  const recount = new RetentionRecount(db);
  const transaction = db.transaction((deleteSome: (note: NoteGroup) => string[]): TouchedState => {
    const groups = new Map<string, { key: string; value: string }>();
    const traceIds = deleteSome((key, value) => groups.set(groupMapKey(key, value), { key, value }));
    const thinned: ThinnedEpisode[] = [];
    for (const { key, value } of groups.values()) {
      if (key === 'circuit_id') result.circuits += recount.circuit(value);
      result.correlations += recount.correlations(key, value, thinned);
    }
    const groupKeys = [...groups.keys(), ...traceIds.map(id => groupMapKey('trace_id', id))];
    if (thinned.length === 0) return { traceIds, groupKeys };
    // Kept with the deletes that made them, until their bridges are planned: a process killed in
    // between has them planned at its next sweep (RetentionSweeper), not left unbridged for good.
    st.keepReplans.run(REPLANS_PENDING, JSON.stringify([...replansPending(db), ...thinned]));
    return { traceIds, groupKeys, thinned };
  });
  // With the write lock from its start: a slice reads what to delete first, and a deferred one
  // failed the sweep (SQLITE_BUSY_SNAPSHOT) when the writer thread committed between that read
  // and its first delete; taken first, the writer waits for the slice instead.
  const slice = (deleteSome: (note: NoteGroup) => string[]): TouchedState => transaction.immediate(deleteSome);
  /**
   * Slices of `pace`'s sizes until one is not full: `take(size, note)` does up to `size` items in
   * the slice's transaction and returns how many, with the trace ids it deleted.
   */
  function* paced(pace: SlicePace, take: (size: number, note: NoteGroup) => [number, string[]]): Generator<TouchedState> {
    for (let full = true; full; ) {
      let touched!: TouchedState;
      beforeSlice();
      full = pace.run(size => {
        let items = 0;
        touched = slice(note => {
          const [n, traceIds] = take(size, note);
          items = n;
          return traceIds;
        });
        return items;
      });
      yield touched;
    }
  }

  const repair = new SummaryRepair(db);
  // A run of slices per table it reads.
  for (const summaries = pace('summaries'); !repair.done; ) yield* paced(summaries, (size, note) => [repair.step(size, note), []]);
  yield* paced(pace('traces'), (size, note) => {
    const gone = st.oldTraces.all(cutoffMs, size) as GoneTrace[];
    return [gone.length, gone.length > 0 ? deleteTraces(st, gone, note, result) : []];
  });
  yield* paced(pace('logs'), (size, note) => {
    const gone = deleteLogs(st, st.oldLogs.all(cutoffMs, size) as number[], note);
    result.logs += gone;
    return [gone, []];
  });
  yield* paced(pace('logs'), (size, note) => {
    const rows = st.oldLooseLogs.all(cutoffMs, size) as { key: string; value: string }[];
    for (const r of rows) note(r.key, r.value);
    return [rows.length, []];
  });
  beforeSlice();
  yield slice(note => {
    for (const s of st.strayMemberships) s.run(cutoffMs);
    const bridges = st.strayBridges.all(cutoffMs) as { key: string; value: string }[];
    result.spans += bridges.length;
    for (const b of bridges) note(b.key, b.value);
    st.serviceHours.run(cutoffMs);
    return [];
  });
  return result;
}

/** The traces whole, set by set; notes the key values whose summaries counted them. Returns their ids. */
function deleteTraces(st: Statements, gone: GoneTrace[], note: NoteGroup, result: PruneCounts): string[] {
  const refs = JSON.stringify(gone.map(t => t.id));
  const traceIds = gone.map(t => t.trace_id);
  const ids = JSON.stringify(traceIds);
  for (const n of st.chunks.all(refs) as number[]) result.spans += n;
  result.spans += st.bridgesFrom.run(refs).changes;
  st.bridgesTo.run(refs);
  const memberships: [string, string, string][] = [];
  for (const t of gone)
    // Each circuit the trace names is recounted, not only its first.
    forEachKeyValue(traceKeyValuesOf(t.keys, t.more_keys), (key, value) => {
      memberships.push([key, value, t.trace_id]);
      note(key, value);
    });
  const triples = JSON.stringify(memberships);
  for (const s of st.memberships) s.run(triples);
  st.linksFrom.run(ids);
  st.linksTo.run(ids);
  result.logs += deleteLogs(st, st.logsOfTraces.all(ids) as number[], note);
  result.correlations += st.traceCorrelations.run(ids).changes;
  // None may stay behind: SQLite gives a deleted row's id again when it was the highest, and a
  // new trace would then find a chunk or bridge filed under it as its own.
  st.traces.run(refs);
  result.traces += gone.length;
  return traceIds;
}

/** The logs of row ids `ids`, with their further circuits; notes each circuit they named. Returns how many went. */
function deleteLogs(st: Statements, ids: number[], note: NoteGroup): number {
  if (ids.length === 0) return 0;
  const json = JSON.stringify(ids);
  for (const c of st.logCircuits.all(json) as string[]) note('circuit_id', c);
  const circuits = st.logs.all(json) as string[];
  for (const c of circuits) if (c) note('circuit_id', c);
  return circuits.length;
}
