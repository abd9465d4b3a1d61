// Summaries that count traces no longer stored, left by sweeps older than 4ed061d: those deleted
// traces (with their memberships, chunks and logs) a slice at a time and recounted only at the end,
// so a sweep cut short (the start-up sweep stopped by fastify's onReady timeout, a crash, a kill)
// never recounted, and the next could not, the traces being gone. A store left by two failed starts
// held 83,000 circuits listing no trace, and correlations named deleted traces. Once per store,
// before its first sweep, the circuits and correlations are read a slice at a time for such
// counts; each one found is counted again in the slice's transaction, as retention's own are.
import type Database from 'better-sqlite3';
import { circuitTraceRows } from './circuit-traces.js';
import { logNamesCircuit } from './log-circuits.js';

/**
 * The meta row saying the store was read through once, or was new: summaries written since are
 * recounted as retention goes.
 */
const REPAIRED = 'summaries_repaired';

export function markSummariesRepaired(db: Database.Database): void {
  db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('${REPAIRED}', ?)`).run(new Date().toISOString());
}

type NoteGroup = (key: string, value: string) => void;

function statements(db: Database.Database) {
  return {
    repaired: db.prepare(`SELECT 1 FROM meta WHERE key = '${REPAIRED}'`).pluck(),
    // A circuit whose trace count is not its stored traces' (the count a recount gives, and ingest
    // keeps), or one with neither traces nor logs: its traces' rows went without a recount.
    circuits: db.prepare(
      `SELECT s.id, s.circuit_id, s.trace_count != s.traces OR (s.traces = 0 AND NOT EXISTS (
           SELECT 1 FROM logs WHERE ${logNamesCircuit('s.circuit_id')})) AS stale
       FROM (SELECT c.id, c.circuit_id, c.trace_count,
           (SELECT count(*) FROM traces WHERE trace_id IN (${circuitTraceRows('c.circuit_id')})) AS traces
         FROM circuits c WHERE c.id > ? ORDER BY c.id LIMIT +?) s
       ORDER BY s.id`,
    ),
    // A correlation naming a trace that is not stored.
    correlations: db.prepare(
      `SELECT c.rid, c.key, c.value, EXISTS (SELECT 1 FROM json_each(c.trace_ids) j
           WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE t.trace_id = j.value)) AS stale
       FROM correlations c WHERE c.rid > ? ORDER BY c.rid LIMIT +?`,
    ),
  };
}

/**
 * The repair's steps, for a sweep to run each in a slice's transaction: `step(size, note)` checks up
 * to `size` summary rows, notes the groups to recount, and returns how many rows it read (fewer than
 * `size` once a table is read through; after the last the store is marked, in that transaction).
 */
export class SummaryRepair {
  private readonly st: ReturnType<typeof statements>;
  /** The table being read, from the row after `after`; null once both were, or the store was before. */
  private table: 'circuits' | 'correlations' | null;
  private after = 0;

  constructor(private readonly db: Database.Database) {
    this.st = statements(db);
    this.table = this.st.repaired.get() === undefined ? 'circuits' : null;
  }

  /** Whether rows are left to check. */
  get done(): boolean {
    return this.table === null;
  }

  step(size: number, note: NoteGroup): number {
    if (this.table === null) return 0;
    if (this.table === 'circuits') {
      const rows = this.st.circuits.all(this.after, size) as { id: number; circuit_id: string; stale: number }[];
      for (const r of rows) if (r.stale) note('circuit_id', r.circuit_id);
      this.after = rows.at(-1)?.id ?? this.after;
      if (rows.length < size) [this.table, this.after] = ['correlations', 0];
      return rows.length;
    }
    const rows = this.st.correlations.all(this.after, size) as { rid: number; key: string; value: string; stale: number }[];
    for (const r of rows) if (r.stale) note(r.key, r.value);
    this.after = rows.at(-1)?.rid ?? this.after;
    if (rows.length < size) {
      markSummariesRepaired(this.db);
      this.table = null;
    }
    return rows.length;
  }
}
