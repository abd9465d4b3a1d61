// What retention's deleted data was summed into, counted again from what is left: a circuit's
// summary, and the correlations of a key value. Statements are prepared once per sweep: prepared
// per group, as they were, preparing took 60% of a sweep of 143k traces.
import type Database from 'better-sqlite3';
import { CIRCUIT_TRACES } from './circuit-traces.js';
import { logNamesCircuit } from './log-circuits.js';
import { correlationId } from '../../correlation/ids.js';
import { TRACE_ERRORS_SQL, correlationMembers } from './rows.js';
import { SEVERITY_ERROR } from '../../otlp/severity.js';
import { addService } from '../../correlation/service-list.js';
import type { ThinnedEpisode } from '../../correlation/engine.js';

interface MemberTotals {
  traces: number;
  spans: number;
  errors: number;
  logs: number;
  firstMs: number | null;
  lastMs: number | null;
  services: string | null;
}

function statements(db: Database.Database) {
  return {
    circuitMembers: db.prepare(
      `SELECT count(*) AS traces, coalesce(sum(t.span_count), 0) AS spans, coalesce(sum(${TRACE_ERRORS_SQL}), 0) AS errors,
         coalesce(sum(t.log_count), 0) AS logs, min(t.first_ms) AS firstMs, max(t.last_ms) AS lastMs,
         (SELECT json_group_array(DISTINCT s.value) FROM traces t2, json_each(t2.services) s
           WHERE t2.trace_id IN (${CIRCUIT_TRACES})) AS services
       FROM traces t WHERE t.trace_id IN (${CIRCUIT_TRACES})`,
    ),
    circuitLogs: db.prepare(
      `SELECT count(*) AS logs, count(*) FILTER (WHERE severity_number >= ${SEVERITY_ERROR}) AS errors, min(time_ms) AS firstMs,
         max(time_ms) AS lastMs, json_group_array(DISTINCT service) AS services
       FROM logs WHERE ${logNamesCircuit('?')} AND trace_id = ''`,
    ),
    deleteCircuit: db.prepare('DELETE FROM circuits WHERE circuit_id = ?'),
    updateCircuit: db.prepare(
      `UPDATE circuits SET trace_count = ?, span_count = ?, error_count = ?, log_count = ?, services = ?,
       first_ms = ?, last_ms = ?,
       bridge_count = (SELECT count(*) FROM bridges WHERE key = 'circuit_id' AND value = ?)
     WHERE circuit_id = ?`,
    ),
    correlationsOf: db.prepare(
      'SELECT rid, id, method, trace_ids, services, span_count, log_count, first_ms, last_ms FROM correlations WHERE key = ? AND value = ?',
    ),
    counts: db.prepare(
      'SELECT span_count, log_count, services, first_ms, last_ms FROM traces WHERE trace_id = ?',
    ),
    looseLogs: db.prepare(
      `SELECT count(*) AS count, json_group_array(DISTINCT service) AS services, min(time_ms) AS first_ms, max(time_ms) AS last_ms
     FROM loose_logs WHERE key = ? AND value = ? AND time_ms >= ? AND time_ms <= ?`,
    ),
    // The traces a full episode refused, which it spans (engine.ts, countMembers).
    refused: db.prepare(
      'SELECT min(first_ms) AS first_ms, max(last_ms) AS last_ms FROM refused_traces WHERE key = +? AND value = ? AND last_ms >= ? AND first_ms <= ?',
    ),
    deleteCorrelation: db.prepare('DELETE FROM correlations WHERE rid = ?'),
    idTaken: db.prepare('SELECT 1 FROM correlations WHERE id = ?'),
    updateCorrelation: db.prepare(
      'UPDATE correlations SET id = ?, trace_ids = ?, services = ?, span_count = ?, log_count = ?, first_ms = ?, last_ms = ? WHERE rid = ?',
    ),
  };
}

/** Recounts for one sweep, its statements prepared on the sweep's connection. */
export class RetentionRecount {
  private readonly st: ReturnType<typeof statements>;

  constructor(db: Database.Database) {
    this.st = statements(db);
  }

  /** Counts a circuit again from its remaining traces, logs and bridges; 1 if it was deleted. */
  circuit(circuitId: string): number {
    const m = this.st.circuitMembers.get(
      circuitId,
      circuitId,
      circuitId,
      circuitId,
    ) as MemberTotals;
    const l = this.st.circuitLogs.get(circuitId, circuitId) as {
      logs: number;
      errors: number;
      firstMs: number | null;
      lastMs: number | null;
      services: string;
    };
    if (m.traces === 0 && l.logs === 0) return this.st.deleteCircuit.run(circuitId).changes;
    const services: string[] = [];
    for (const s of JSON.parse(m.services ?? '[]') as string[]) addService(services, s);
    if (l.logs > 0) for (const s of JSON.parse(l.services) as string[]) addService(services, s);
    const times = [m.firstMs, m.lastMs, l.firstMs, l.lastMs].filter(
      (x): x is number => x !== null && Number.isFinite(x),
    );
    this.st.updateCircuit.run(
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
   * were deleted. One that lost traces and kept two or more goes into `thinned`: the bridges into
   * and out of the lost ones went with them, and its others are planned again (engine.ts, replanThinned).
   */
  correlations(key: string, value: string, thinned: ThinnedEpisode[] = []): number {
    const { counts, looseLogs, refused } = this.st;
    const rows = this.st.correlationsOf.all(key, value) as {
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
        const t = counts.get(id) as
          | {
              span_count: number;
              log_count: number;
              services: string;
              first_ms: number;
              last_ms: number;
            }
          | undefined;
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
          : (looseLogs.get(key, value, r.first_ms, r.last_ms) as {
              count: number;
              services: string;
              first_ms: number | null;
              last_ms: number | null;
            });
      const loose = l.count;
      for (const s of JSON.parse(l.services) as string[]) left.add(s);
      if (l.first_ms !== null) firstMs = Math.min(firstMs, l.first_ms);
      if (l.last_ms !== null) lastMs = Math.max(lastMs, l.last_ms);
      if (kept.length > 0 && key !== 'trace_id') {
        const f = refused.get(key, value, r.first_ms, r.last_ms) as {
          first_ms: number | null;
          last_ms: number | null;
        };
        if (f.first_ms !== null && f.last_ms !== null)
          [firstMs, lastMs] = [Math.min(firstMs, f.first_ms), Math.max(lastMs, f.last_ms)];
      }
      if (!Number.isFinite(firstMs)) [firstMs, lastMs] = [r.first_ms, r.last_ms];
      const listed = JSON.parse(r.services) as string[];
      const services = JSON.stringify(
        key === 'trace_id' ? listed : listed.filter(s => left.has(s)),
      );
      // A trace's spans-and-logs correlation has its trace and the trace's logs as two members.
      const members =
        key === 'trace_id'
          ? correlationMembers(kept.length, logs)
          : kept.length + (loose > 0 ? 1 : 0);
      // An episode left with logs of no trace alone keeps its row, as the engine writes one (engine.ts, finish).
      if (members < 2 && !(key !== 'trace_id' && kept.length === 0 && loose > 0)) {
        deleted += this.st.deleteCorrelation.run(r.rid).changes;
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
      const id =
        key === 'trace_id' || firstMs === r.first_ms
          ? r.id
          : correlationId(r.method, value, firstMs);
      if (key !== 'trace_id' && kept.length >= 2 && kept.length < before.length)
        thinned.push({ key, value, traceId: kept[0]!, firstMs, lastMs });
      const free = id === r.id || this.st.idTaken.get(id) === undefined;
      this.st.updateCorrelation.run(
        free ? id : r.id,
        JSON.stringify(kept),
        services,
        spans,
        logs + loose,
        firstMs,
        lastMs,
        r.rid,
      );
    }
    return deleted;
  }
}
