// Severity as OTLP's log data model defines it: numbers 1–24 in six ranges of four (TRACE, DEBUG,
// INFO, WARN, ERROR, FATAL), each with a short name. A sender often gives only one of the two (a
// collector's filelog pipeline sets the text, some SDKs the number): the other is filled from it, so
// a line with text ERROR and no number is an error wherever numbers are compared.

const RANGES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** The data model's names (ERROR, ERROR2…) and the usual others, of syslog and common loggers. */
const NUMBER_OF_NAME: ReadonlyMap<string, number> = new Map<string, number>([
  ...RANGES.flatMap((name, i) => [1, 2, 3, 4].map(n => [n === 1 ? name : `${name}${n}`, i * 4 + n] as [string, number])),
  ['NOTICE', 10],
  ['WARNING', 13],
  ['ERR', 17],
  ['SEVERE', 17],
  ['CRITICAL', 21],
  ['CRIT', 21],
  ['ALERT', 22],
  ['EMERG', 23],
  ['EMERGENCY', 23],
  ['PANIC', 24],
]);

export const SEVERITY_ERROR = 17;

/** The number a severity name stands for, case-insensitive; 0 (unspecified) for others. */
export function severityNumberOfText(text: string): number {
  return NUMBER_OF_NAME.get(text.trim().toUpperCase()) ?? 0;
}

/** The data model's short name of a number (18 → ERROR2); '' for 0 and numbers outside 1–24. */
export function severityTextOfNumber(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 24) return '';
  const step = (n - 1) % 4;
  return `${RANGES[Math.floor((n - 1) / 4)]}${step === 0 ? '' : step + 1}`;
}

/** Both fields, each filled from the other when the sender left it out (0 or ''); others are kept as sent. */
export function completeSeverity(severityNumber: number, severityText: string): { severityNumber: number; severityText: string } {
  return {
    severityNumber: severityNumber !== 0 ? severityNumber : severityNumberOfText(severityText),
    severityText: severityText !== '' ? severityText : severityTextOfNumber(severityNumber),
  };
}
