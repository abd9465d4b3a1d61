// Store rows → API shapes.
import type {
  MdsoDefectRule,
  MdsoErrorRecord,
  MdsoExtractionRule,
  MdsoIssue,
  MdsoIssueCircuit,
  MdsoIssueHistoryEntry,
} from '@correlation-station/api-schema';
import type { Catalogue, DefectRule } from '../catalogue/types.js';
import type { IssueState } from '../issues/state-machine.js';
import type { CircuitRow, ErrorRow, HistoryRow, IssueRow } from '../store/rows.js';

export function errorView(row: ErrorRow, issueState: IssueState, catalogue: Catalogue): MdsoErrorRecord {
  const rule = row.defect_code ? catalogue.rules.find(r => r.code === row.defect_code) : undefined;
  return {
    id: row.id,
    resourceId: row.resource_id,
    resourceTypeId: row.resource_type_id,
    product: row.product,
    label: row.label,
    circuitId: row.circuit_id,
    orchState: row.orch_state,
    occurredAtMs: row.occurred_at_ms,
    occurredAt: new Date(row.occurred_at_ms).toISOString(),
    recordedAtMs: row.recorded_at_ms,
    extractionRule: row.extraction_rule as MdsoExtractionRule,
    text: row.text,
    failingStep: row.failing_step,
    statusUpdaterText: row.status_updater_text,
    reason: row.reason,
    traceLogId: row.trace_log_id,
    defectCode: row.defect_code,
    defectTitle: rule?.title ?? null,
    ruleIndex: row.rule_index,
    system: row.system,
    category: row.category,
    catalogueVersion: row.catalogue_version,
    catalogueHash: row.catalogue_hash,
    groupingVersion: row.grouping_version,
    template: row.template,
    fingerprint: row.fingerprint,
    issueId: row.issue_id,
    issueState,
  };
}

export function issueView(row: IssueRow, circuitCount: number): MdsoIssue {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    groupingVersion: row.grouping_version,
    defectCode: row.defect_code,
    product: row.product,
    title: row.title,
    system: row.system,
    template: row.template,
    state: row.state,
    assignee: row.assignee,
    firstSeenMs: row.first_seen_ms,
    lastSeenMs: row.last_seen_ms,
    count: row.count,
    circuitCount,
    stateChangedMs: row.state_changed_ms,
    catalogueVersion: row.catalogue_version,
  };
}

export function historyView(row: HistoryRow): MdsoIssueHistoryEntry {
  return { atMs: row.at_ms, actor: row.actor, from: row.from_state, to: row.to_state, assignee: row.assignee, note: row.note };
}

export function circuitView(row: CircuitRow): MdsoIssueCircuit {
  return { circuitId: row.circuit_id, firstSeenMs: row.first_seen_ms, lastSeenMs: row.last_seen_ms, count: row.count };
}

export function ruleView(rule: DefectRule): MdsoDefectRule {
  return {
    code: rule.code,
    title: rule.title,
    category: rule.category,
    system: rule.system,
    products: [...rule.products],
    severity: rule.severity,
    team: rule.team,
    runbook: rule.runbook,
    patterns: [...rule.patterns],
    line: rule.line,
  };
}
