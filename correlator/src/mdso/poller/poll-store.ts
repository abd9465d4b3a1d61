// The poller's persistent progress (mdso_ tables): per product a watermark of the last completed
// scan and the resume point of an unfinished one, the failures already handed on, and recent runs.
import type { Database } from 'better-sqlite3';

export interface ProductCursor {
  resourceTypeId: string;
  /** highest MDSO updatedAt seen by the last completed scan */
  watermarkMs: number | null;
  lastCompleteScanStartedMs: number | null;
  /** an unfinished scan: where the last good page ended */
  scan: { offset: number; sinceMs: number; maxUpdatedMs: number; startedMs: number } | null;
  lastSeen: number;
  lastChanged: number;
  lastFailures: number;
  lastRecorded: number;
  totalSeen: number;
  totalFailures: number;
}

export interface PollRunRow {
  id: number;
  trigger: string;
  startedMs: number;
  endedMs: number | null;
  outcome: string;
  resourcesSeen: number;
  failuresFound: number;
  failuresRecorded: number;
  errorMessage: string | null;
  /** failed MDSO requests during the poll, including retried ones */
  apiErrors: number;
  duplicatesSkipped: number;
  /** pages shorter than asked for although more items remained */
  shortPages: number;
}

export function migratePollStore(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS mdso_poll_cursor (
      resource_type_id TEXT PRIMARY KEY,
      watermark_ms INTEGER,
      last_complete_scan_started_ms INTEGER,
      scan_offset INTEGER,
      scan_since_ms INTEGER,
      scan_max_updated_ms INTEGER,
      scan_started_ms INTEGER,
      last_seen INTEGER NOT NULL DEFAULT 0,
      last_changed INTEGER NOT NULL DEFAULT 0,
      last_failures INTEGER NOT NULL DEFAULT 0,
      last_recorded INTEGER NOT NULL DEFAULT 0,
      total_seen INTEGER NOT NULL DEFAULT 0,
      total_failures INTEGER NOT NULL DEFAULT 0
    );
    -- one row per failure occurrence handed on: (resource, occurrence key), see failureOccurrenceKey
    CREATE TABLE IF NOT EXISTS mdso_processed_failure (
      resource_id TEXT NOT NULL,
      occurrence_key TEXT NOT NULL,
      updated_at_ms INTEGER NOT NULL,
      resource_type_id TEXT NOT NULL,
      error_id TEXT,
      processed_at_ms INTEGER NOT NULL,
      PRIMARY KEY (resource_id, occurrence_key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS mdso_poll_run (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      trigger TEXT NOT NULL,
      started_ms INTEGER NOT NULL,
      ended_ms INTEGER,
      outcome TEXT NOT NULL,
      resources_seen INTEGER NOT NULL DEFAULT 0,
      failures_found INTEGER NOT NULL DEFAULT 0,
      failures_recorded INTEGER NOT NULL DEFAULT 0,
      error_message TEXT
    );
  `);
  // columns added after the first version of the table
  const runColumns = new Set((db.prepare('PRAGMA table_info(mdso_poll_run)').all() as Array<{ name: string }>).map(c => c.name));
  for (const column of ['api_errors', 'duplicates_skipped', 'short_pages']) {
    if (!runColumns.has(column)) db.exec(`ALTER TABLE mdso_poll_run ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
  }
}

const RUNS_KEPT = 200;

interface CursorRow {
  resource_type_id: string;
  watermark_ms: number | null;
  last_complete_scan_started_ms: number | null;
  scan_offset: number | null;
  scan_since_ms: number | null;
  scan_max_updated_ms: number | null;
  scan_started_ms: number | null;
  last_seen: number;
  last_changed: number;
  last_failures: number;
  last_recorded: number;
  total_seen: number;
  total_failures: number;
}

export class PollStore {
  private readonly stmts;

  constructor(private readonly db: Database) {
    migratePollStore(db);
    this.stmts = {
      getCursor: db.prepare<[string], CursorRow>('SELECT * FROM mdso_poll_cursor WHERE resource_type_id = ?'),
      ensureCursor: db.prepare('INSERT OR IGNORE INTO mdso_poll_cursor (resource_type_id) VALUES (?)'),
      beginScan: db.prepare(
        'UPDATE mdso_poll_cursor SET scan_offset = @offset, scan_since_ms = @sinceMs, scan_max_updated_ms = @maxUpdatedMs, scan_started_ms = @startedMs, last_seen = 0, last_changed = 0, last_failures = 0, last_recorded = 0 WHERE resource_type_id = @type',
      ),
      advanceScan: db.prepare(
        'UPDATE mdso_poll_cursor SET scan_offset = @offset, scan_max_updated_ms = @maxUpdatedMs, last_seen = last_seen + @seen, last_changed = last_changed + @changed, last_failures = last_failures + @failures, last_recorded = last_recorded + @recorded, total_seen = total_seen + @seen, total_failures = total_failures + @failures WHERE resource_type_id = @type',
      ),
      completeScan: db.prepare(
        'UPDATE mdso_poll_cursor SET watermark_ms = @watermarkMs, last_complete_scan_started_ms = scan_started_ms, scan_offset = NULL, scan_since_ms = NULL, scan_max_updated_ms = NULL, scan_started_ms = NULL WHERE resource_type_id = @type',
      ),
      isProcessed: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM mdso_processed_failure WHERE resource_id = ? AND occurrence_key = ?'),
      markProcessed: db.prepare(
        'INSERT OR IGNORE INTO mdso_processed_failure (resource_id, occurrence_key, updated_at_ms, resource_type_id, error_id, processed_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertRun: db.prepare('INSERT INTO mdso_poll_run (trigger, started_ms, outcome) VALUES (?, ?, ?)'),
      finishRun: db.prepare(
        'UPDATE mdso_poll_run SET ended_ms = @endedMs, outcome = @outcome, resources_seen = @seen, failures_found = @failures, failures_recorded = @recorded, error_message = @errorMessage, api_errors = @apiErrors, duplicates_skipped = @duplicatesSkipped, short_pages = @shortPages WHERE id = @id',
      ),
      pruneRuns: db.prepare('DELETE FROM mdso_poll_run WHERE id <= (SELECT MAX(id) FROM mdso_poll_run) - ?'),
      lastRun: db.prepare<[], RunRow>('SELECT * FROM mdso_poll_run ORDER BY id DESC LIMIT 1'),
      lastErrorRun: db.prepare<[], RunRow>('SELECT * FROM mdso_poll_run WHERE error_message IS NOT NULL ORDER BY id DESC LIMIT 1'),
      pruneProcessed: db.prepare('DELETE FROM mdso_processed_failure WHERE processed_at_ms < ?'),
      abandonRunning: db.prepare("UPDATE mdso_poll_run SET outcome = 'aborted', error_message = COALESCE(error_message, 'interrupted by a restart') WHERE outcome = 'running'"),
    };
  }

  cursor(type: string): ProductCursor {
    this.stmts.ensureCursor.run(type);
    const r = this.stmts.getCursor.get(type)!;
    return {
      resourceTypeId: r.resource_type_id,
      watermarkMs: r.watermark_ms,
      lastCompleteScanStartedMs: r.last_complete_scan_started_ms,
      scan:
        r.scan_offset !== null && r.scan_since_ms !== null && r.scan_started_ms !== null
          ? { offset: r.scan_offset, sinceMs: r.scan_since_ms, maxUpdatedMs: r.scan_max_updated_ms ?? 0, startedMs: r.scan_started_ms }
          : null,
      lastSeen: r.last_seen,
      lastChanged: r.last_changed,
      lastFailures: r.last_failures,
      lastRecorded: r.last_recorded,
      totalSeen: r.total_seen,
      totalFailures: r.total_failures,
    };
  }

  beginScan(type: string, scan: { offset: number; sinceMs: number; maxUpdatedMs: number; startedMs: number }): void {
    this.stmts.ensureCursor.run(type);
    this.stmts.beginScan.run({ type, ...scan });
  }

  /** One good page: its failures are handed on, the resume point moves past it, atomically. */
  advanceScan(
    type: string,
    page: { offset: number; maxUpdatedMs: number; seen: number; changed: number; failures: number; recorded: number },
    processed: ReadonlyArray<{ resourceId: string; occurrenceKey: string; updatedAtMs: number; errorId: string | null }>,
    nowMs: number,
  ): void {
    this.db.transaction(() => {
      for (const p of processed) this.stmts.markProcessed.run(p.resourceId, p.occurrenceKey, p.updatedAtMs, type, p.errorId, nowMs);
      this.stmts.advanceScan.run({ type, ...page });
    })();
  }

  completeScan(type: string, watermarkMs: number | null): void {
    this.stmts.completeScan.run({ type, watermarkMs });
  }

  isProcessed(resourceId: string, occurrenceKey: string): boolean {
    return this.stmts.isProcessed.get(resourceId, occurrenceKey) !== undefined;
  }

  /** Forgets handed-on failures processed before `beforeMs` (the table would otherwise only grow). */
  pruneProcessed(beforeMs: number): number {
    return this.stmts.pruneProcessed.run(beforeMs).changes;
  }

  /** Runs left 'running' by a process that died are closed as aborted at start-up. */
  abandonRunning(): void {
    this.stmts.abandonRunning.run();
  }

  startRun(trigger: string, startedMs: number): number {
    return Number(this.stmts.insertRun.run(trigger, startedMs, 'running').lastInsertRowid);
  }

  finishRun(
    id: number,
    r: { endedMs: number; outcome: string; seen: number; failures: number; recorded: number; errorMessage: string | null; apiErrors: number; duplicatesSkipped: number; shortPages: number },
  ): void {
    this.stmts.finishRun.run({ id, ...r });
    this.stmts.pruneRuns.run(RUNS_KEPT);
  }

  lastRun(): PollRunRow | null {
    return toRun(this.stmts.lastRun.get());
  }

  lastErrorRun(): PollRunRow | null {
    return toRun(this.stmts.lastErrorRun.get());
  }
}

interface RunRow {
  id: number;
  trigger: string;
  started_ms: number;
  ended_ms: number | null;
  outcome: string;
  resources_seen: number;
  failures_found: number;
  failures_recorded: number;
  error_message: string | null;
  api_errors: number;
  duplicates_skipped: number;
  short_pages: number;
}

function toRun(r: RunRow | undefined): PollRunRow | null {
  if (!r) return null;
  return {
    id: r.id,
    trigger: r.trigger,
    startedMs: r.started_ms,
    endedMs: r.ended_ms,
    outcome: r.outcome,
    resourcesSeen: r.resources_seen,
    failuresFound: r.failures_found,
    failuresRecorded: r.failures_recorded,
    errorMessage: r.error_message,
    apiErrors: r.api_errors,
    duplicatesSkipped: r.duplicates_skipped,
    shortPages: r.short_pages,
  };
}
