// Row shapes as SQLite returns them.
import type { IssueState } from '../issues/state-machine.js';

export interface ErrorRow {
  id: string;
  resource_id: string;
  resource_type_id: string;
  product: string;
  label: string;
  circuit_id: string | null;
  orch_state: string;
  occurred_at_ms: number;
  recorded_at_ms: number;
  extraction_rule: string;
  text: string;
  failing_step: string | null;
  status_updater_text: string | null;
  reason: string;
  trace_log_id: string | null;
  defect_code: string | null;
  rule_index: number | null;
  system: string | null;
  category: string | null;
  catalogue_version: string;
  catalogue_hash: string;
  grouping_version: number;
  template: string;
  fingerprint: string;
  issue_id: string;
}

export interface IssueRow {
  id: string;
  fingerprint: string;
  grouping_version: number;
  defect_code: string | null;
  product: string;
  title: string;
  system: string | null;
  template: string;
  state: IssueState;
  assignee: string | null;
  first_seen_ms: number;
  last_seen_ms: number;
  count: number;
  state_changed_ms: number;
  catalogue_version: string;
}

export interface HistoryRow {
  id: number;
  issue_id: string;
  at_ms: number;
  actor: string;
  from_state: IssueState | null;
  to_state: IssueState;
  assignee: string | null;
  note: string | null;
}

export interface CircuitRow {
  circuit_id: string;
  first_seen_ms: number;
  last_seen_ms: number;
  count: number;
}
