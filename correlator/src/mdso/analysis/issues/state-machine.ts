// Issue states and their transitions, after Sentry's and Datadog's: an issue is `new` when first seen,
// `regressed` when a resolved one recurs, `ignored` keeps counting silently. `regressed` is only ever set
// by a recurrence, never by a person.

export const ISSUE_STATES = ['new', 'acknowledged', 'resolved', 'regressed', 'ignored'] as const;
export type IssueState = (typeof ISSUE_STATES)[number];

/** States that count as open (shown in mdso_open_issues, eligible for auto-resolve). */
export const OPEN_STATES: readonly IssueState[] = ['new', 'acknowledged', 'regressed'];

const MANUAL: Readonly<Record<IssueState, readonly IssueState[]>> = {
  new: ['acknowledged', 'resolved', 'ignored'],
  acknowledged: ['resolved', 'ignored'],
  regressed: ['acknowledged', 'resolved', 'ignored'],
  resolved: ['acknowledged', 'ignored'],
  ignored: ['acknowledged', 'resolved'],
};

export type TransitionCheck = { ok: true } | { ok: false; status: 400 | 409; message: string };

export function checkManualTransition(from: IssueState, to: IssueState): TransitionCheck {
  if (to === 'regressed') {
    return { ok: false, status: 400, message: 'state "regressed" is set only when a resolved issue recurs' };
  }
  if (to === 'new') {
    return { ok: false, status: 400, message: 'state "new" is set only when an issue is first seen' };
  }
  if (from === to) return { ok: false, status: 409, message: `issue is already ${to}` };
  if (!MANUAL[from].includes(to)) {
    return { ok: false, status: 409, message: `cannot move an issue from ${from} to ${to} (allowed: ${MANUAL[from].join(', ')})` };
  }
  return { ok: true };
}

/** What a new occurrence does to an issue's state; null for an unchanged state. */
export function stateOnOccurrence(current: IssueState): IssueState | null {
  return current === 'resolved' ? 'regressed' : null;
}

export function isOpen(state: IssueState): boolean {
  return OPEN_STATES.includes(state);
}
