// Reads the trace ids, key groups and log content hashes the SQLite store holds, a slice at a
// time, for the seen filter (seen-filter-keeper.ts). Each slice continues after the last key read,
// so rows written or deleted between slices are neither read twice nor make it lose its place;
// what is written meanwhile reaches the filter from the batch that writes it.
import type Database from 'better-sqlite3';
import type { HeldEntriesScan } from '../seen-filter-keeper.js';
import type { SeenFilter } from '../seen-filter.js';

// Every chunk is filed under its trace's row and goes with it (schema.ts, version 4): the trace
// rows are all the traces the store holds.
const TRACE_ROWS = 'SELECT id, trace_id FROM traces WHERE id > ? ORDER BY id LIMIT +?';
const KEY_GROUPS =
  'SELECT DISTINCT key, value FROM trace_keys WHERE (key, value) > (?, ?) ORDER BY key, value LIMIT +?';
// Logs of no trace that carry a key value make it a group the store holds too (schema.ts, version 6).
const LOOSE_LOG_GROUPS =
  'SELECT DISTINCT key, value FROM loose_logs WHERE (key, value) > (?, ?) ORDER BY key, value LIMIT +?';
const LOG_ROWS = 'SELECT id, dedupe FROM logs WHERE id > ? ORDER BY id LIMIT +?';

/** Trace rows and key groups (about seven entries per trace), and log records (and their groups). */
export function estimateHeldEntries(db: Database.Database): number {
  const rows = (table: string) =>
    db.prepare(`SELECT coalesce(max(id) - min(id) + 1, 0) FROM ${table}`).pluck().get() as number;
  return rows('traces') * 7 + rows('logs');
}

export class SqliteHeldEntriesScan implements HeldEntriesScan {
  private stage: 0 | 1 | 2 | 3 | 4 = 0;
  private lastTraceRow = 0;
  private lastKey = '';
  private lastValue = '';
  private lastLogRow = 0;
  /** Prepared once per build: a build of a large store reads thousands of slices. */
  private readonly traceRows: Database.Statement;
  private readonly keyGroups: Database.Statement;
  private readonly looseLogGroups: Database.Statement;
  private readonly logRows: Database.Statement;

  constructor(db: Database.Database) {
    this.traceRows = db.prepare(TRACE_ROWS).raw();
    this.keyGroups = db.prepare(KEY_GROUPS).raw();
    this.looseLogGroups = db.prepare(LOOSE_LOG_GROUPS).raw();
    this.logRows = db.prepare(LOG_ROWS).raw();
  }

  step(into: SeenFilter, limit: number): number {
    while (this.stage < 4) {
      const n = this.readSlice(into, limit);
      if (n > 0) return n;
      this.stage++;
      [this.lastKey, this.lastValue] = ['', ''];
    }
    return 0;
  }

  private readSlice(into: SeenFilter, limit: number): number {
    switch (this.stage) {
      case 0:
        return this.byRowId(this.traceRows, 'lastTraceRow', limit, id => into.addTrace(id));
      case 1:
        return this.groupsAfterCursor(this.keyGroups, into, limit);
      case 2:
        return this.groupsAfterCursor(this.looseLogGroups, into, limit);
      default:
        return this.byRowId(this.logRows, 'lastLogRow', limit, dedupe => into.addLog(dedupe));
    }
  }

  /** A slice of (key, value) groups after the cursor, each added to the filter. */
  private groupsAfterCursor(statement: Database.Statement, into: SeenFilter, limit: number): number {
    const rows = statement.all(this.lastKey, this.lastValue, limit) as [string, string][];
    for (const [key, value] of rows) into.addGroup(key, value);
    if (rows.length > 0) [this.lastKey, this.lastValue] = rows[rows.length - 1]!;
    return rows.length;
  }

  /** A slice of (rowid, value) rows after the cursor `last`, each value given to `add`. */
  private byRowId(
    statement: Database.Statement,
    last: 'lastTraceRow' | 'lastLogRow',
    limit: number,
    add: (value: string) => void,
  ): number {
    const rows = statement.all(this[last], limit) as [number, string][];
    for (const [id, value] of rows) {
      add(value);
      this[last] = id;
    }
    return rows.length;
  }
}
