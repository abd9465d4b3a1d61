// Tables of the MDSO analysis, created idempotently on the shared connection.
import type { Database } from 'better-sqlite3';

export function migrateAnalysisTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS mdso_errors (
      id TEXT PRIMARY KEY,
      resource_id TEXT NOT NULL,
      resource_type_id TEXT NOT NULL,
      product TEXT NOT NULL,
      label TEXT NOT NULL,
      circuit_id TEXT,
      orch_state TEXT NOT NULL,
      occurred_at_ms INTEGER NOT NULL,
      recorded_at_ms INTEGER NOT NULL,
      extraction_rule TEXT NOT NULL,
      text TEXT NOT NULL,
      failing_step TEXT,
      status_updater_text TEXT,
      reason TEXT NOT NULL,
      trace_log_id TEXT,
      defect_code TEXT,
      rule_index INTEGER,
      system TEXT,
      category TEXT,
      catalogue_version TEXT NOT NULL,
      catalogue_hash TEXT NOT NULL,
      grouping_version INTEGER NOT NULL,
      template TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      issue_id TEXT NOT NULL,
      UNIQUE (resource_id, occurred_at_ms)
    );
    CREATE INDEX IF NOT EXISTS mdso_errors_time ON mdso_errors (occurred_at_ms DESC, id DESC);
    CREATE INDEX IF NOT EXISTS mdso_errors_issue ON mdso_errors (issue_id, occurred_at_ms DESC);
    CREATE INDEX IF NOT EXISTS mdso_errors_circuit ON mdso_errors (circuit_id, occurred_at_ms DESC);
    CREATE INDEX IF NOT EXISTS mdso_errors_defect ON mdso_errors (defect_code, occurred_at_ms DESC);
    CREATE INDEX IF NOT EXISTS mdso_errors_uncat ON mdso_errors (template) WHERE defect_code IS NULL;

    CREATE TABLE IF NOT EXISTS mdso_issues (
      id TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL UNIQUE,
      grouping_version INTEGER NOT NULL,
      defect_code TEXT,
      product TEXT NOT NULL,
      title TEXT NOT NULL,
      system TEXT,
      template TEXT NOT NULL,
      state TEXT NOT NULL,
      assignee TEXT,
      first_seen_ms INTEGER NOT NULL,
      last_seen_ms INTEGER NOT NULL,
      count INTEGER NOT NULL,
      state_changed_ms INTEGER NOT NULL,
      catalogue_version TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS mdso_issues_state ON mdso_issues (state, last_seen_ms DESC);
    CREATE INDEX IF NOT EXISTS mdso_issues_last ON mdso_issues (last_seen_ms DESC);

    CREATE TABLE IF NOT EXISTS mdso_issue_circuits (
      issue_id TEXT NOT NULL,
      circuit_id TEXT NOT NULL,
      first_seen_ms INTEGER NOT NULL,
      last_seen_ms INTEGER NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (issue_id, circuit_id)
    );

    CREATE TABLE IF NOT EXISTS mdso_issue_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      issue_id TEXT NOT NULL,
      at_ms INTEGER NOT NULL,
      actor TEXT NOT NULL,
      from_state TEXT,
      to_state TEXT NOT NULL,
      assignee TEXT,
      note TEXT
    );
    CREATE INDEX IF NOT EXISTS mdso_issue_history_issue ON mdso_issue_history (issue_id, id);
  `);
}
