import { msOfNanos, parseRfc3339Nanos } from '../time/rfc3339.js';
import { errors } from './errors.js';

/**
 * Epoch seconds (up to 10 digits), milliseconds (11 to 15), nanoseconds (19) or RFC 3339 → epoch
 * ms; undefined stays undefined. The unit follows from the digit count because an operator's
 * `$(date +%s)` or a Tempo/Loki time pasted into a query was otherwise read as milliseconds of
 * January 1970 and matched nothing, silently. No range of interest is ambiguous: milliseconds of
 * 10 digits or fewer all fall before 26 April 1970, seconds of 11 digits after the year 5138.
 */
export function parseTime(param: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d{1,10}$/.test(value)) return Number(value) * 1000;
  if (/^\d{11,15}$/.test(value)) return Number(value);
  if (/^\d{19}$/.test(value)) return msOfNanos(BigInt(value));
  const ns = parseRfc3339Nanos(value);
  if (ns === null) throw errors.badTime(param, value);
  return msOfNanos(ns);
}

export function parseRange(from: string | undefined, to: string | undefined): { fromMs?: number; toMs?: number } {
  const fromMs = parseTime('from', from);
  const toMs = parseTime('to', to);
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw errors.badRange(fromMs, toMs);
  return { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
}
