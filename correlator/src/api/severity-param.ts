import { severityNumberOfText } from '../otlp/severity.js';
import { errors } from './errors.js';

/**
 * A least severity as an operator writes it, `17` or `error` or `warning`, → OTLP's number;
 * undefined stays undefined. An unknown name is refused, not read as 0: "errors only" with a typo
 * would otherwise list everything.
 */
export function parseMinSeverity(param: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = /^\d{1,2}$/.test(value) ? Number(value) : severityNumberOfText(value);
  if (n < 1 || n > 24) throw errors.badSeverity(param, value);
  return n;
}
