// Retention, trace by trace. A trace goes whole (its row, span chunks, bridges, memberships and
// links) once its last datum is older than the cutoff; its logs go with it, and so do logs of no
// trace that are older. What the remaining data is summed into (circuits, correlations) is then
// counted again from what is left: deleting by age alone left summaries counting deleted spans,
// traces, logs and bridges, and correlations naming deleted traces.
import type Database from 'better-sqlite3';
import { CIRCUIT_TRACES } from './circuit-traces.js';
import { logNamesCircuit } from './log-circuits.js';
import type { PruneResult } from '../store.js';
import { correlationId } from '../../correlation/ids.js';
import { groupMapKey } from '../../correlation/types.js';
import { TRACE_ERRORS_SQL, correlationMembers } from './rows.js';
import { forEachKeyValue, traceKeyValuesOf } from '../trace-key-values.js';
import { SERVICE_HOUR_MS } from '../service-hours.js';
import { SEVERITY_ERROR } from '../../otlp/severity.js';
import { addService } from '../../correlation/service-list.js';

/** Traces deleted per transaction, so the writer thread gets the lock between slices. */
const TRACES_PER_SLICE = 1000;
const LOGS_PER_SLICE = 5000;

interface GoneTrace {
  id: number;
  trace_id: string;
  keys: string;
  /** Further key values, as key, value pairs (schema 5): a trace that names several circuits. */
  more_keys: string;
}

/**
 * The sweep a slice (one transaction) per step: a caller that yields between steps keeps serving
 * while a large backlog is deleted, and the writer thread gets the write lock between slices.
 */
export function* pruneInSlices(
  db: Database.Database,
  cutoffMs: number,
): Generator<void, PruneResult> {
  const result: PruneResult = {
    spans: 0,
    logs: 0,
    traces: 0,
    circuits: 0,
    correlations: 0,
    touched: { traceIds: [], groupKeys: [] },
  };
  const groups = new Map<string, { key: string; value: string }>();
  const noteGroup = (key: string, value: string) =>
    groups.set(groupMapKey(key, value), { key, value });

  const oldTraces = db.prepare('SELECT id, trace_id, keys, more_keys FROM traces WHERE last_ms < ? LIMIT ?');
  const sliceOfTraces = db.transaction((gone: GoneTrace[]) => {
    const refs = JSON.stringify(gone.map(t => t.id));
    const ids = JSON.stringify(gone.map(t => t.trace_id));
    for (const n of db
      .prepare(
        'DELETE FROM span_chunks WHERE trace_ref IN (SELECT value FROM json_each(?)) RETURNING span_count',
      )
      .pluck()
      .all(refs) as number[])
      result.spans += n;
    // A bridge row is its bridge span too.
    result.spans += db
      .prepare('DELETE FROM bridges WHERE parent_ref IN (SELECT value FROM json_each(?))')
      .run(refs).changes;
    db.prepare('DELETE FROM bridges WHERE child_ref IN (SELECT value FROM json_each(?))').run(refs);
    const memberRow = db.prepare('DELETE FROM trace_keys WHERE key = ? AND value = ? AND trace_id = ?');
    // A trace a full episode refused has a row of its own kind (schema.ts, version 8).
    const refusedRow = db.prepare('DELETE FROM refused_traces WHERE key = ? AND value = ? AND trace_id = ?');
    const dropRows = (key: string, value: string, traceId: string): void => {
      memberRow.run(key, value, traceId);
      refusedRow.run(key, value, traceId);
    };
    for (const t of gone) {
      // The trace's spans-and-logs correlation goes with it.
      noteGroup('trace_id', t.trace_id);
      // Each circuit the trace names is recounted, not only its first.
      forEachKeyValue(traceKeyValuesOf(t.keys, t.more_keys), (key, value) => {
        dropRows(key, value, t.trace_id);
        noteGroup(key, value);
      });
    }
    db.prepare('DELETE FROM links WHERE source_trace_id IN (SELECT value FROM json_each(?))').run(
      ids,
    );
    db.prepare('DELETE FROM links WHERE target_trace_id IN (SELECT value FROM json_each(?))').run(
      ids,
    );
    // `!= ''` lets the planner read logs_trace, an index of such rows only, rather than every log.
    result.logs += deleteLogs(db, `SELECT id FROM logs WHERE trace_id IN (SELECT value FROM json_each(?)) AND trace_id != ''`, ids, noteGroup);
    // None may stay behind: SQLite gives a deleted row's id again when it was the highest, and a
    // new trace would then find a chunk or bridge filed under it as its own.
    db.prepare('DELETE FROM traces WHERE id IN (SELECT value FROM json_each(?))').run(refs);
    result.traces += gone.length;
  });
  for (;;) {
    const gone = oldTraces.all(cutoffMs, TRACES_PER_SLICE) as GoneTrace[];
    if (gone.length === 0) break;
    sliceOfTraces(gone);
    for (const t of gone) result.touched.traceIds.push(t.trace_id);
    yield;
  }

  // Logs of no trace (or of a trace never stored) that are older than the cutoff.
  const oldLogs = db
    .prepare(
      `SELECT id FROM logs WHERE time_ms < ? AND (trace_id = '' OR trace_id NOT IN (SELECT trace_id FROM traces)) ORDER BY time_ms LIMIT ?`,
    )
    .pluck();
  const sliceOfLogs = db.transaction((): number => {
    const gone = oldLogs.all(cutoffMs, LOGS_PER_SLICE) as number[];
    return deleteLogs(db, 'SELECT value FROM json_each(?)', JSON.stringify(gone), noteGroup);
  });
  for (;;) {
    const gone = sliceOfLogs();
    result.logs += gone;
    if (gone < LOGS_PER_SLICE) break;
    yield;
  }
  // Their key values' index rows (schema.ts, version 6), by the same age.
  const oldLooseLogs = db.prepare(
    'DELETE FROM loose_logs WHERE rowid IN (SELECT rowid FROM loose_logs WHERE time_ms < ? LIMIT ?) RETURNING key, value',
  );
  for (;;) {
    const rows = oldLooseLogs.all(cutoffMs, LOGS_PER_SLICE) as { key: string; value: string }[];
    for (const r of rows) noteGroup(r.key, r.value);
    if (rows.length < LOGS_PER_SLICE) break;
    yield;
  }
  // Memberships and bridges whose trace row is gone some other way. A bridge goes with its traces
  // (above), not by its child's start: a kept trace that started before the cutoff lost its
  // bridge, and only an episode planned again whole brought it back.
  for (const table of ['trace_keys', 'refused_traces'])
    db.prepare(`DELETE FROM ${table} WHERE last_ms < ? AND trace_id NOT IN (SELECT trace_id FROM traces)`).run(cutoffMs);
  result.spans += db
    .prepare('DELETE FROM bridges WHERE child_start_ms < ? AND (child_ref NOT IN (SELECT id FROM traces) OR parent_ref NOT IN (SELECT id FROM traces))')
    .run(cutoffMs).changes;
  // Hours that ended before the cutoff: their traces are gone, but for one still running since.
  db.prepare('DELETE FROM service_hours WHERE hour_ms <= ?').run(cutoffMs - SERVICE_HOUR_MS);

  db.transaction(() => {
    for (const { key, value } of groups.values()) {
      if (key === 'circuit_id') result.circuits += recountCircuit(db, value);
      result.correlations += recountCorrelations(db, key, value);
    }
  })();
  result.touched.groupKeys = [...groups.keys()];
  return result;
}

/**
 * Deletes the logs whose row ids `ids` selects (SQL binding `arg`), with their further circuits
 * (log-circuits.ts): a row left behind would file a later log that got the same id (SQLite gives
 * the highest id again) under those circuits. Notes each circuit they named; returns how many logs
 * went. Call inside a transaction.
 */
function deleteLogs(db: Database.Database, ids: string, arg: string, noteGroup: (key: string, value: string) => void): number {
  for (const c of db.prepare(`DELETE FROM log_circuits WHERE log_id IN (${ids}) RETURNING circuit_id`).pluck().all(arg) as string[])
    noteGroup('circuit_id', c);
  const circuits = db.prepare(`DELETE FROM logs WHERE id IN (${ids}) RETURNING coalesce(circuit_id, '')`).pluck().all(arg) as string[];
  for (const c of circuits) if (c) noteGroup('circuit_id', c);
  return circuits.length;
}

interface MemberTotals {
  traces: number;
  spans: number;
  errors: number;
  logs: number;
  firstMs: number | null;
  lastMs: number | null;
  services: string | null;
}

/** Counts a circuit again from its remaining traces, logs and bridges; 1 if it was deleted. */
function recountCircuit(db: Database.Database, circuitId: string): number {
  const m = db
    .prepare(
      `SELECT count(*) AS traces, coalesce(sum(t.span_count), 0) AS spans, coalesce(sum(${TRACE_ERRORS_SQL}), 0) AS errors,
         coalesce(sum(t.log_count), 0) AS logs, min(t.first_ms) AS firstMs, max(t.last_ms) AS lastMs,
         (SELECT json_group_array(DISTINCT s.value) FROM traces t2, json_each(t2.services) s
           WHERE t2.trace_id IN (${CIRCUIT_TRACES})) AS services
       FROM traces t WHERE t.trace_id IN (${CIRCUIT_TRACES})`,
    )
    .get(circuitId, circuitId, circuitId, circuitId) as MemberTotals;
  const l = db
    .prepare(
      `SELECT count(*) AS logs, count(*) FILTER (WHERE severity_number >= ${SEVERITY_ERROR}) AS errors, min(time_ms) AS firstMs,
         max(time_ms) AS lastMs, json_group_array(DISTINCT service) AS services
       FROM logs WHERE ${logNamesCircuit('?')} AND trace_id = ''`,
    )
    .get(circuitId, circuitId) as {
    logs: number;
    errors: number;
    firstMs: number | null;
    lastMs: number | null;
    services: string;
  };
  if (m.traces === 0 && l.logs === 0)
    return db.prepare('DELETE FROM circuits WHERE circuit_id = ?').run(circuitId).changes;
  const services: string[] = [];
  for (const s of JSON.parse(m.services ?? '[]') as string[]) addService(services, s);
  if (l.logs > 0) for (const s of JSON.parse(l.services) as string[]) addService(services, s);
  const times = [m.firstMs, m.lastMs, l.firstMs, l.lastMs].filter(
    (x): x is number => x !== null && Number.isFinite(x),
  );
  db.prepare(
    `UPDATE circuits SET trace_count = ?, span_count = ?, error_count = ?, log_count = ?, services = ?,
       first_ms = ?, last_ms = ?,
       bridge_count = (SELECT count(*) FROM bridges WHERE key = 'circuit_id' AND value = ?)
     WHERE circuit_id = ?`,
  ).run(
    m.traces,
    m.spans,
    m.errors + l.errors,
    m.logs + l.logs,
    JSON.stringify(services),
    Math.min(...times),
    Math.max(...times),
    circuitId,
    circuitId,
  );
  return 0;
}

/**
 * Drops deleted traces and logs from the correlations of a key value; a correlation left with
 * fewer than two members (traces, and its logs of no trace as one) is deleted. Returns how many
 * were deleted.
 */
function recountCorrelations(db: Database.Database, key: string, value: string): number {
  const rows = db
    .prepare('SELECT rid, id, method, trace_ids, services, span_count, log_count, first_ms, last_ms FROM correlations WHERE key = ? AND value = ?')
    .all(key, value) as {
    rid: number;
    id: string;
    method: string;
    trace_ids: string;
    services: string;
    span_count: number;
    log_count: number;
    first_ms: number;
    last_ms: number;
  }[];
  const counts = db.prepare('SELECT span_count, log_count, services, first_ms, last_ms FROM traces WHERE trace_id = ?');
  const looseLogs = db.prepare(
    `SELECT count(*) AS count, json_group_array(DISTINCT service) AS services, min(time_ms) AS first_ms, max(time_ms) AS last_ms
     FROM loose_logs WHERE key = ? AND value = ? AND time_ms >= ? AND time_ms <= ?`,
  );
  // The traces a full episode refused, which it spans (engine.ts, countMembers).
  const refused = db.prepare(
    'SELECT min(first_ms) AS first_ms, max(last_ms) AS last_ms FROM refused_traces WHERE key = ? AND value = ? AND last_ms >= ? AND first_ms <= ?',
  );
  let deleted = 0;
  for (const r of rows) {
    const before = JSON.parse(r.trace_ids) as string[];
    const kept: string[] = [];
    let spans = 0;
    let logs = 0;
    // What is left: the services of the kept traces and logs, in the order the row lists them.
    const left = new Set<string>();
    // And the span of what is left, from which the episode is found and merged again.
    let firstMs = Infinity;
    let lastMs = -Infinity;
    for (const id of before) {
      const t = counts.get(id) as { span_count: number; log_count: number; services: string; first_ms: number; last_ms: number } | undefined;
      if (!t) continue;
      kept.push(id);
      spans += t.span_count;
      logs += t.log_count;
      for (const s of JSON.parse(t.services) as string[]) left.add(s);
      firstMs = Math.min(firstMs, t.first_ms);
      lastMs = Math.max(lastMs, t.last_ms);
    }
    const l =
      key === 'trace_id'
        ? { count: 0, services: '[]', first_ms: null, last_ms: null }
        : (looseLogs.get(key, value, r.first_ms, r.last_ms) as { count: number; services: string; first_ms: number | null; last_ms: number | null });
    const loose = l.count;
    for (const s of JSON.parse(l.services) as string[]) left.add(s);
    if (l.first_ms !== null) firstMs = Math.min(firstMs, l.first_ms);
    if (l.last_ms !== null) lastMs = Math.max(lastMs, l.last_ms);
    if (kept.length > 0 && key !== 'trace_id') {
      const f = refused.get(key, value, r.first_ms, r.last_ms) as { first_ms: number | null; last_ms: number | null };
      if (f.first_ms !== null && f.last_ms !== null) [firstMs, lastMs] = [Math.min(firstMs, f.first_ms), Math.max(lastMs, f.last_ms)];
    }
    if (!Number.isFinite(firstMs)) [firstMs, lastMs] = [r.first_ms, r.last_ms];
    const listed = JSON.parse(r.services) as string[];
    const services = JSON.stringify(key === 'trace_id' ? listed : listed.filter(s => left.has(s)));
    // A trace's spans-and-logs correlation has its trace and the trace's logs as two members.
    const members = key === 'trace_id' ? correlationMembers(kept.length, logs) : kept.length + (loose > 0 ? 1 : 0);
    // An episode left with logs of no trace alone keeps its row, as the engine writes one (engine.ts, finish).
    if (members < 2 && !(key !== 'trace_id' && kept.length === 0 && loose > 0)) {
      deleted += db.prepare('DELETE FROM correlations WHERE rid = ?').run(r.rid).changes;
      continue;
    }
    if (
      kept.length === before.length &&
      spans === r.span_count &&
      logs + loose === r.log_count &&
      services === r.services &&
      firstMs === r.first_ms &&
      lastMs === r.last_ms
    )
      continue;
    // Its id is made from its earliest datum (engine.ts, mergeEpisodes), which may be gone: renamed
    // now, as the data left would name it, not by whichever batch next reads it back. A trace's own
    // correlation is named by the trace alone.
    const id = key === 'trace_id' || firstMs === r.first_ms ? r.id : correlationId(r.method, value, firstMs);
    const free = id === r.id || db.prepare('SELECT 1 FROM correlations WHERE id = ?').get(id) === undefined;
    db.prepare(
      'UPDATE correlations SET id = ?, trace_ids = ?, services = ?, span_count = ?, log_count = ?, first_ms = ?, last_ms = ? WHERE rid = ?',
    ).run(free ? id : r.id, JSON.stringify(kept), services, spans, logs + loose, firstMs, lastMs, r.rid);
  }
  return deleted;
}
