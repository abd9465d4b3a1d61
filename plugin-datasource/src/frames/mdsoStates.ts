import type { MdsoIssueState } from '@correlation-station/api-schema';

/**
 * Issue states with their labels. A Record over the schema's union type makes the compiler
 * reject this list when the correlator adds or drops a state.
 */
export const MDSO_ISSUE_STATE_LABELS: Record<MdsoIssueState, string> = {
  new: 'New',
  acknowledged: 'Acknowledged',
  regressed: 'Regressed',
  resolved: 'Resolved',
  ignored: 'Ignored',
};

export const MDSO_ISSUE_STATES = Object.keys(MDSO_ISSUE_STATE_LABELS) as MdsoIssueState[];

export function isMdsoIssueState(value: string | undefined): value is MdsoIssueState {
  return value !== undefined && value in MDSO_ISSUE_STATE_LABELS;
}
