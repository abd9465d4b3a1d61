// Message bodies for Slack incoming webhooks ({text}, mrkdwn) and Webex incoming webhooks ({markdown}).
export interface IssueTransitionEvent {
  /** issue id + history row id: one message per transition */
  key: string;
  issueId: string;
  kind: 'new' | 'regressed';
  title: string;
  defectCode: string | null;
  product: string;
  system: string | null;
  count: number;
  circuitId: string | null;
  atMs: number;
}

const MAX_LINES = 20;

function line(e: IssueTransitionEvent, bold: (s: string) => string, code: (s: string) => string): string {
  const what = e.kind === 'new' ? 'New issue' : 'Regressed issue';
  const defect = e.defectCode ?? 'uncategorized';
  const circuit = e.circuitId ? ` circuit ${code(e.circuitId)}` : '';
  return `${bold(what)} ${code(defect)} ${e.title} (${e.product}${e.system ? `, ${e.system}` : ''}; ${e.count} so far;${circuit} issue ${code(e.issueId)})`;
}

function body(events: readonly IssueTransitionEvent[], bold: (s: string) => string, code: (s: string) => string): string {
  const shown = events.slice(0, MAX_LINES).map(e => `• ${line(e, bold, code)}`);
  if (events.length > MAX_LINES) shown.push(`…and ${events.length - MAX_LINES} more`);
  return [`MDSO error tracking: ${events.length} issue update${events.length === 1 ? '' : 's'}`, ...shown].join('\n');
}

export function slackMessage(events: readonly IssueTransitionEvent[]): { text: string } {
  return { text: body(events, s => `*${s}*`, s => `\`${s}\``) };
}

export function webexMessage(events: readonly IssueTransitionEvent[]): { markdown: string } {
  return { markdown: body(events, s => `**${s}**`, s => `\`${s}\``) };
}
