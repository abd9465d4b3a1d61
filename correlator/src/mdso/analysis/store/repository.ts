// All SQL of the analysis in one place: prepared once, used by the recorder and the read API.
import type { Database, Statement } from 'better-sqlite3';
import type { IssueState } from '../issues/state-machine.js';
import type { CircuitRow, ErrorRow, HistoryRow, IssueRow } from './rows.js';

export interface ErrorFilter {
  product?: string;
  /** a DE code, or the literal "uncategorized" */
  defect?: string;
  issueState?: IssueState;
  circuitId?: string;
  fromMs?: number;
  toMs?: number;
  /** keyset cursor: rows strictly older than (occurredAtMs, id) */
  before?: { occurredAtMs: number; id: string };
  limit: number;
}

export interface IssueFilter {
  state?: IssueState;
  product?: string;
  defect?: string;
  limit: number;
}

export interface UncategorisedTemplate {
  template: string;
  examples: string[];
  n: number;
  first_ms: number;
  last_ms: number;
  product: string;
}

export interface BucketCount {
  bucket: number;
  key: string | null;
  n: number;
}

export class AnalysisRepository {
  private readonly insertError: Statement;
  private readonly errorExists: Statement;
  private readonly issueById: Statement;
  private readonly insertIssue: Statement;
  private readonly bumpIssue: Statement;
  private readonly setIssueState: Statement;
  private readonly setAssignee: Statement;
  private readonly upsertCircuit: Statement;
  private readonly insertHistory: Statement;

  constructor(readonly db: Database) {
    this.insertError = db.prepare(`INSERT OR IGNORE INTO mdso_errors (id, resource_id, resource_type_id, product, label,
      circuit_id, orch_state, occurred_at_ms, recorded_at_ms, extraction_rule, text, failing_step, status_updater_text,
      reason, trace_log_id, defect_code, rule_index, system, category, catalogue_version, catalogue_hash,
      grouping_version, template, fingerprint, issue_id) VALUES (@id, @resource_id, @resource_type_id, @product, @label,
      @circuit_id, @orch_state, @occurred_at_ms, @recorded_at_ms, @extraction_rule, @text, @failing_step,
      @status_updater_text, @reason, @trace_log_id, @defect_code, @rule_index, @system, @category, @catalogue_version,
      @catalogue_hash, @grouping_version, @template, @fingerprint, @issue_id)`);
    this.errorExists = db.prepare('SELECT id, defect_code, issue_id FROM mdso_errors WHERE resource_id = ? AND occurred_at_ms = ?');
    this.issueById = db.prepare('SELECT * FROM mdso_issues WHERE id = ?');
    this.insertIssue = db.prepare(`INSERT INTO mdso_issues (id, fingerprint, grouping_version, defect_code, product, title,
      system, template, state, assignee, first_seen_ms, last_seen_ms, count, state_changed_ms, catalogue_version)
      VALUES (@id, @fingerprint, @grouping_version, @defect_code, @product, @title, @system, @template, @state, NULL,
      @first_seen_ms, @last_seen_ms, 0, @state_changed_ms, @catalogue_version)`);
    this.bumpIssue = db.prepare(`UPDATE mdso_issues SET count = count + 1,
      first_seen_ms = MIN(first_seen_ms, @at), last_seen_ms = MAX(last_seen_ms, @at) WHERE id = @id`);
    this.setIssueState = db.prepare('UPDATE mdso_issues SET state = ?, state_changed_ms = ? WHERE id = ?');
    this.setAssignee = db.prepare('UPDATE mdso_issues SET assignee = ? WHERE id = ?');
    this.upsertCircuit = db.prepare(`INSERT INTO mdso_issue_circuits (issue_id, circuit_id, first_seen_ms, last_seen_ms, count)
      VALUES (?, ?, ?, ?, 1) ON CONFLICT (issue_id, circuit_id) DO UPDATE SET count = count + 1,
      first_seen_ms = MIN(first_seen_ms, excluded.first_seen_ms), last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms)`);
    this.insertHistory = db.prepare(`INSERT INTO mdso_issue_history (issue_id, at_ms, actor, from_state, to_state, assignee, note)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  findError(resourceId: string, occurredAtMs: number): Pick<ErrorRow, 'id' | 'defect_code' | 'issue_id'> | undefined {
    return this.errorExists.get(resourceId, occurredAtMs) as Pick<ErrorRow, 'id' | 'defect_code' | 'issue_id'> | undefined;
  }

  addError(row: ErrorRow): boolean {
    return this.insertError.run(row).changes === 1;
  }

  issue(id: string): IssueRow | undefined {
    return this.issueById.get(id) as IssueRow | undefined;
  }

  createIssue(row: Omit<IssueRow, 'assignee' | 'count'>): void {
    this.insertIssue.run(row);
  }

  countOccurrence(issueId: string, atMs: number, circuitId: string | null): void {
    this.bumpIssue.run({ id: issueId, at: atMs });
    if (circuitId) this.upsertCircuit.run(issueId, circuitId, atMs, atMs);
  }

  changeState(issueId: string, from: IssueState | null, to: IssueState, atMs: number, actor: string, note: string | null, assignee: string | null): number {
    if (from !== to) this.setIssueState.run(to, atMs, issueId);
    return Number(this.insertHistory.run(issueId, atMs, actor, from, to, assignee, note).lastInsertRowid);
  }

  assign(issueId: string, assignee: string | null): void {
    this.setAssignee.run(assignee, issueId);
  }

  /** Error records only; issues keep their counts, circuits and history. */
  deleteErrorsBefore(occurredBeforeMs: number): number {
    return this.db.prepare('DELETE FROM mdso_errors WHERE occurred_at_ms < ?').run(occurredBeforeMs).changes;
  }

  quietOpenIssues(lastSeenBeforeMs: number): IssueRow[] {
    return this.db
      .prepare(`SELECT * FROM mdso_issues WHERE state IN ('new', 'acknowledged', 'regressed') AND last_seen_ms < ?`)
      .all(lastSeenBeforeMs) as IssueRow[];
  }

  listErrors(f: ErrorFilter): Array<ErrorRow & { issue_state: IssueState }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.product) {
      where.push('e.product = ?');
      args.push(f.product);
    }
    if (f.defect === 'uncategorized') where.push('e.defect_code IS NULL');
    else if (f.defect) {
      where.push('e.defect_code = ?');
      args.push(f.defect);
    }
    if (f.issueState) {
      where.push('i.state = ?');
      args.push(f.issueState);
    }
    if (f.circuitId) {
      where.push('e.circuit_id = ?');
      args.push(f.circuitId);
    }
    if (f.fromMs !== undefined) {
      where.push('e.occurred_at_ms >= ?');
      args.push(f.fromMs);
    }
    if (f.toMs !== undefined) {
      where.push('e.occurred_at_ms <= ?');
      args.push(f.toMs);
    }
    if (f.before) {
      where.push('(e.occurred_at_ms < ? OR (e.occurred_at_ms = ? AND e.id < ?))');
      args.push(f.before.occurredAtMs, f.before.occurredAtMs, f.before.id);
    }
    const sql = `SELECT e.*, i.state AS issue_state FROM mdso_errors e JOIN mdso_issues i ON i.id = e.issue_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.occurred_at_ms DESC, e.id DESC LIMIT +?`;
    return this.db.prepare(sql).all(...args, f.limit) as Array<ErrorRow & { issue_state: IssueState }>;
  }

  bucketCounts(fromMs: number, toMs: number, stepMs: number, groupColumn: 'product' | 'defect_code' | 'system'): BucketCount[] {
    // groupColumn comes from a closed union, never from the request text. better-sqlite3 binds JS numbers as
    // REAL, so the division is fractional unless cast: a bucket of 118.56 is no array index. Rows are never
    // before fromMs, so truncation is floor. toMs is inclusive, as on every other route.
    return this.db
      .prepare(`SELECT CAST((occurred_at_ms - ?) / ? AS INTEGER) AS bucket, ${groupColumn} AS key, COUNT(*) AS n FROM mdso_errors
        WHERE occurred_at_ms >= ? AND occurred_at_ms <= ? GROUP BY bucket, key`)
      .all(fromMs, stepMs, fromMs, toMs) as BucketCount[];
  }

  listIssues(f: IssueFilter): IssueRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.state) {
      where.push('state = ?');
      args.push(f.state);
    }
    if (f.product) {
      where.push('product = ?');
      args.push(f.product);
    }
    if (f.defect === 'uncategorized') where.push('defect_code IS NULL');
    else if (f.defect) {
      where.push('defect_code = ?');
      args.push(f.defect);
    }
    const sql = `SELECT * FROM mdso_issues ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY last_seen_ms DESC, id LIMIT +?`;
    return this.db.prepare(sql).all(...args, f.limit) as IssueRow[];
  }

  history(issueId: string): HistoryRow[] {
    return this.db.prepare('SELECT * FROM mdso_issue_history WHERE issue_id = ? ORDER BY id').all(issueId) as HistoryRow[];
  }

  recentErrors(issueId: string, limit: number): ErrorRow[] {
    return this.db
      .prepare('SELECT * FROM mdso_errors WHERE issue_id = ? ORDER BY occurred_at_ms DESC, id DESC LIMIT +?')
      .all(issueId, limit) as ErrorRow[];
  }

  circuits(issueId: string, limit: number): { rows: CircuitRow[]; total: number } {
    const rows = this.db
      .prepare('SELECT circuit_id, first_seen_ms, last_seen_ms, count FROM mdso_issue_circuits WHERE issue_id = ? ORDER BY last_seen_ms DESC LIMIT +?')
      .all(issueId, limit) as CircuitRow[];
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM mdso_issue_circuits WHERE issue_id = ?').get(issueId) as { n: number }).n;
    return { rows, total };
  }

  circuitCounts(issueIds: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    if (issueIds.length === 0) return out;
    const rows = this.db
      .prepare(`SELECT issue_id, COUNT(*) AS n FROM mdso_issue_circuits WHERE issue_id IN (${issueIds.map(() => '?').join(',')}) GROUP BY issue_id`)
      .all(...issueIds) as Array<{ issue_id: string; n: number }>;
    for (const r of rows) out.set(r.issue_id, r.n);
    return out;
  }

  issueStateCounts(): Array<{ state: IssueState; n: number }> {
    return this.db.prepare('SELECT state, COUNT(*) AS n FROM mdso_issues GROUP BY state').all() as Array<{ state: IssueState; n: number }>;
  }

  defectMatchCounts(): Array<{ defect_code: string; n: number; last_ms: number }> {
    return this.db
      .prepare('SELECT defect_code, COUNT(*) AS n, MAX(occurred_at_ms) AS last_ms FROM mdso_errors WHERE defect_code IS NOT NULL GROUP BY defect_code')
      .all() as Array<{ defect_code: string; n: number; last_ms: number }>;
  }

  /** Uncategorised errors grouped by masked template, oldest first so clustering is stable. */
  uncategorisedTemplates(limit: number, examplesPerTemplate: number): UncategorisedTemplate[] {
    const rows = this.db
      .prepare(`SELECT template, COUNT(*) AS n, MIN(occurred_at_ms) AS first_ms, MAX(occurred_at_ms) AS last_ms,
        MIN(product) AS product FROM mdso_errors WHERE defect_code IS NULL GROUP BY template ORDER BY first_ms LIMIT +?`)
      .all(limit) as Array<Omit<UncategorisedTemplate, 'examples'>>;
    // A few distinct raw texts per template, newest first: the examples a suggested rule is proven on.
    const examples = this.db
      .prepare(`SELECT template, text FROM (SELECT template, text, ROW_NUMBER() OVER (PARTITION BY template ORDER BY last DESC) AS rn
        FROM (SELECT template, text, MAX(occurred_at_ms) AS last FROM mdso_errors WHERE defect_code IS NULL GROUP BY template, text))
        WHERE rn <= ?`)
      .all(examplesPerTemplate) as Array<{ template: string; text: string }>;
    const byTemplate = new Map<string, string[]>();
    for (const e of examples) {
      const list = byTemplate.get(e.template) ?? [];
      list.push(e.text);
      byTemplate.set(e.template, list);
    }
    return rows.map(r => ({ ...r, examples: byTemplate.get(r.template) ?? [] }));
  }

}
