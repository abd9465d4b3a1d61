// The MDSO analysis facade: records failures (extract → categorise → group into issues → notify), keeps
// the catalogue (load, validate, reload without losing the active one) and auto-resolves quiet issues.
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError, type MdsoConfig } from '../../config/config.js';
import { categorise, prepareCatalogue } from './catalogue/match.js';
import { parseCatalogue } from './catalogue/parse.js';
import { loadCatalogueFile, SHIPPED_CATALOGUE_PATH } from './catalogue/load.js';
import type { Catalogue, CatalogueParseResult, CatalogueProblem } from './catalogue/types.js';
import { extractFailure } from './extraction/extract.js';
import { errorIdFor, fingerprintFor, GROUPING_VERSION, issueIdFor } from './grouping/fingerprint.js';
import { maskVolatile } from './grouping/mask.js';
import { checkManualTransition, stateOnOccurrence, type IssueState } from './issues/state-machine.js';
import { analysisMetrics, type AnalysisMetrics } from './metrics.js';
import type { IssueTransitionEvent } from './notify/format.js';
import { WebhookNotifier } from './notify/webhook.js';
import { migrateAnalysisTables } from './store/schema.js';
import { AnalysisRepository } from './store/repository.js';
import type { IssueRow } from './store/rows.js';
import type { FailureInput, MdsoAnalysisOptions, RecordedFailure } from './types.js';

const MAX_TEXT_CHARS = 2000;
const MAX_REASON_CHARS = 8000;
const NO_TEXT_TEMPLATE = '(no error text)';
const SYSTEM_ACTOR = 'system';

export interface CatalogueState {
  catalogue: Catalogue;
  /** the file the active catalogue came from */
  source: string;
  loadedAtMs: number;
  lastReload: { ok: boolean; atMs: number; source: string; problems: CatalogueProblem[] } | null;
}

export type IssueUpdate = { state?: IssueState; assignee?: string | null; note?: string; actor?: string };
export type IssueUpdateResult = { ok: true; issue: IssueRow } | { ok: false; status: 400 | 404 | 409; message: string };

const PROBLEMS_SHOWN = 3;

function describeProblems(problems: readonly CatalogueProblem[]): string {
  const shown = problems.slice(0, PROBLEMS_SHOWN).map(p => (p.line > 0 ? `line ${p.line}:${p.column}: ${p.message}` : p.message));
  const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : '';
  return `is not a usable defect catalogue: ${shown.join('; ')}${more}`;
}

const EMPTY_CATALOGUE: Catalogue = { version: 'none', hash: '000000000000', rules: [] };

export class MdsoAnalysis {
  readonly repo: AnalysisRepository;
  readonly config: Readonly<MdsoConfig>;
  readonly now: () => number;
  private readonly logger: FastifyBaseLogger;
  private readonly metrics: AnalysisMetrics;
  private readonly notifier: WebhookNotifier | null;
  private catalogueState: CatalogueState;

  constructor(opts: MdsoAnalysisOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    // First, so a refused DEFECT_CATALOG stops start-up before anything is written.
    this.catalogueState = this.initialCatalogue();
    migrateAnalysisTables(opts.db);
    this.repo = new AnalysisRepository(opts.db);
    this.metrics = analysisMetrics(opts.registry, () => this.repo.issueStateCounts());
    prepareCatalogue(this.catalogueState.catalogue);
    const hook = opts.config.webhook;
    this.notifier = hook.url
      ? new WebhookNotifier({
          url: hook.url,
          format: hook.format,
          minIntervalSeconds: hook.minIntervalSeconds,
          logger: opts.logger,
          now: this.now,
          fetchImpl: opts.fetchImpl ?? fetch,
          onOutcome: (outcome, n) => this.metrics.webhook.inc({ outcome }, n),
        })
      : null;
  }

  get catalogue(): CatalogueState {
    return this.catalogueState;
  }

  get webhook(): WebhookNotifier | null {
    return this.notifier;
  }

  /** Checks a rule file without applying it. */
  validateCatalogue(text: string): CatalogueParseResult {
    return parseCatalogue(text);
  }

  /** Re-reads the configured rule file; on any problem the active catalogue stays. */
  reloadCatalogue(): CatalogueState['lastReload'] {
    const source = this.config.defectCatalogPath ?? SHIPPED_CATALOGUE_PATH;
    const result = loadCatalogueFile(source);
    const atMs = this.now();
    if (result.ok) {
      prepareCatalogue(result.catalogue);
      this.catalogueState = { catalogue: result.catalogue, source, loadedAtMs: atMs, lastReload: { ok: true, atMs, source, problems: [] } };
      this.logger.info({ version: result.catalogue.version, rules: result.catalogue.rules.length, source }, 'defect catalogue reloaded');
    } else {
      this.catalogueState = { ...this.catalogueState, lastReload: { ok: false, atMs, source, problems: result.problems } };
      this.logger.error({ source, problems: result.problems }, 'defect catalogue refused; the previous one stays active');
    }
    return this.catalogueState.lastReload;
  }

  recordFailure(input: FailureInput): RecordedFailure {
    const known = this.repo.findError(input.resourceId, input.occurredAtMs);
    if (known) return { errorId: known.id, created: false, defectCode: known.defect_code, issueId: known.issue_id };

    const { catalogue } = this.catalogueState;
    const extraction = extractFailure(input);
    const text = extraction.text.slice(0, MAX_TEXT_CHARS);
    const match = categorise(catalogue, text, input.product);
    const template = text === '' ? NO_TEXT_TEMPLATE : maskVolatile(text);
    const defectCode = match?.rule.code ?? null;
    const fingerprint = fingerprintFor(defectCode, input.product, template);
    const issueId = issueIdFor(fingerprint);
    const errorId = errorIdFor(input.resourceId, input.occurredAtMs);
    const recordedAt = this.now();
    let event: IssueTransitionEvent | null = null;

    const created = this.repo.transaction(() => {
      const inserted = this.repo.addError({
        id: errorId,
        resource_id: input.resourceId,
        resource_type_id: input.resourceTypeId,
        product: input.product,
        label: input.label,
        circuit_id: input.circuitId,
        orch_state: input.orchState,
        occurred_at_ms: input.occurredAtMs,
        recorded_at_ms: recordedAt,
        extraction_rule: extraction.rule,
        text,
        failing_step: extraction.failingStep,
        status_updater_text: extraction.statusUpdaterText,
        reason: input.reason.slice(0, MAX_REASON_CHARS),
        trace_log_id: input.orchTrace?.traceLogId ?? null,
        defect_code: defectCode,
        rule_index: match?.ruleIndex ?? null,
        system: match?.rule.system ?? null,
        category: match?.rule.category ?? null,
        catalogue_version: catalogue.version,
        catalogue_hash: catalogue.hash,
        grouping_version: GROUPING_VERSION,
        template,
        fingerprint,
        issue_id: issueId,
      });
      if (!inserted) return false;
      const issue = this.repo.issue(issueId);
      if (!issue) {
        this.repo.createIssue({
          id: issueId,
          fingerprint,
          grouping_version: GROUPING_VERSION,
          defect_code: defectCode,
          product: input.product,
          title: match?.rule.title ?? template.slice(0, 200),
          system: match?.rule.system ?? null,
          template,
          state: 'new',
          first_seen_ms: input.occurredAtMs,
          last_seen_ms: input.occurredAtMs,
          state_changed_ms: recordedAt,
          catalogue_version: catalogue.version,
        });
        const h = this.repo.changeState(issueId, null, 'new', recordedAt, SYSTEM_ACTOR, 'first seen', null);
        event = this.event(issueId, h, 'new', input, 1);
      }
      this.repo.countOccurrence(issueId, input.occurredAtMs, input.circuitId);
      // A failure that happened before the issue was resolved is late data, not a recurrence.
      const next = issue ? stateOnOccurrence(issue.state) : null;
      if (issue && next && input.occurredAtMs > issue.state_changed_ms) {
        const h = this.repo.changeState(issueId, issue.state, next, recordedAt, SYSTEM_ACTOR, `recurred on ${input.resourceId}`, issue.assignee);
        event = this.event(issueId, h, 'regressed', input, issue.count + 1);
      }
      return true;
    });
    if (!created) {
      const again = this.repo.findError(input.resourceId, input.occurredAtMs);
      return { errorId, created: false, defectCode: again?.defect_code ?? defectCode, issueId: again?.issue_id ?? issueId };
    }
    this.metrics.errors.inc({ product: input.product, defect_code: defectCode ?? 'uncategorized', system: match?.rule.system ?? 'unknown' });
    if (event) this.notifier?.notify(event);
    return { errorId, created: true, defectCode, issueId };
  }

  sweep(): void {
    const quietMs = this.config.issueAutoResolveHours * 3_600_000;
    const now = this.now();
    const pruned = this.repo.deleteErrorsBefore(now - this.config.errorRetentionDays * 86_400_000);
    if (pruned > 0) this.logger.info({ pruned }, 'MDSO error records past retention deleted');
    const quiet = this.repo.quietOpenIssues(now - quietMs);
    if (quiet.length === 0) return;
    this.repo.transaction(() => {
      for (const issue of quiet) {
        this.repo.changeState(issue.id, issue.state, 'resolved', now, SYSTEM_ACTOR, `auto-resolved: no occurrence for ${this.config.issueAutoResolveHours} h`, issue.assignee);
      }
    });
    this.logger.info({ resolved: quiet.length }, 'quiet MDSO issues auto-resolved');
  }

  updateIssue(id: string, update: IssueUpdate): IssueUpdateResult {
    const actor = update.actor?.trim() || 'api';
    return this.repo.transaction((): IssueUpdateResult => {
      const issue = this.repo.issue(id);
      if (!issue) return { ok: false, status: 404, message: `issue ${id} not found` };
      if (update.state === undefined && update.assignee === undefined && update.note === undefined) {
        return { ok: false, status: 400, message: 'nothing to change: give state, assignee or note' };
      }
      const at = this.now();
      const assignee = update.assignee === undefined ? issue.assignee : update.assignee;
      if (update.assignee !== undefined) this.repo.assign(id, update.assignee);
      if (update.state !== undefined) {
        const check = checkManualTransition(issue.state, update.state);
        if (!check.ok) return check;
        this.repo.changeState(id, issue.state, update.state, at, actor, update.note ?? null, assignee);
      } else {
        // Assignment and notes are part of the history too, recorded as a same-state entry.
        const note = update.note ?? (update.assignee === null ? 'unassigned' : `assigned to ${update.assignee}`);
        this.repo.changeState(id, issue.state, issue.state, at, actor, note, assignee);
      }
      return { ok: true, issue: this.repo.issue(id)! };
    });
  }

  async close(): Promise<void> {
    await this.notifier?.close();
  }

  private event(issueId: string, historyId: number, kind: 'new' | 'regressed', input: FailureInput, count: number): IssueTransitionEvent {
    const issue = this.repo.issue(issueId);
    return {
      key: `${issueId}#${historyId}`,
      issueId,
      kind,
      title: issue?.title ?? '',
      defectCode: issue?.defect_code ?? null,
      product: input.product,
      system: issue?.system ?? null,
      count,
      circuitId: input.circuitId,
      atMs: input.occurredAtMs,
    };
  }

  private initialCatalogue(): CatalogueState {
    const at = this.now();
    const configured = this.config.defectCatalogPath;
    if (configured) {
      const r = loadCatalogueFile(configured);
      if (r.ok) return { catalogue: r.catalogue, source: configured, loadedAtMs: at, lastReload: null };
      // At start-up there is no active catalogue to keep (as a reload does): running on the
      // shipped one would categorise every error by rules the operator did not choose.
      throw new ConfigError('DEFECT_CATALOG', `"${configured}" ${describeProblems(r.problems)}`);
    }
    const shipped = loadCatalogueFile(SHIPPED_CATALOGUE_PATH);
    if (!shipped.ok) {
      this.logger.error({ problems: shipped.problems }, 'shipped defect catalogue refused; every error stays uncategorised');
      return { catalogue: EMPTY_CATALOGUE, source: '(none)', loadedAtMs: at, lastReload: { ok: false, atMs: at, source: SHIPPED_CATALOGUE_PATH, problems: shipped.problems } };
    }
    return { catalogue: shipped.catalogue, source: SHIPPED_CATALOGUE_PATH, loadedAtMs: at, lastReload: null };
  }
}
