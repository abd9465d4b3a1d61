import type { ExactTimeRange } from '../store/store.js';
import { msOfNanos, parseRfc3339Nanos } from '../time/rfc3339.js';
import { errors } from './errors.js';

/**
 * Epoch seconds (up to 10 digits), milliseconds (11 to 15), nanoseconds (19) or RFC 3339 → epoch
 * nanoseconds, exact; undefined stays undefined. The unit follows from the digit count because an
 * operator's `$(date +%s)` or a Tempo/Loki time pasted into a query was otherwise read as
 * milliseconds of January 1970 and matched nothing, silently. No range of interest is ambiguous:
 * milliseconds of 10 digits or fewer all fall before 26 April 1970, seconds of 11 digits after the
 * year 5138.
 */
export function parseTimeNanos(param: string, value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d{1,10}$/.test(value)) return BigInt(value) * 1_000_000_000n;
  if (/^\d{11,15}$/.test(value)) return BigInt(value) * 1_000_000n;
  if (/^\d{19}$/.test(value)) return BigInt(value);
  const ns = parseRfc3339Nanos(value);
  if (ns === null) throw errors.badTime(param, value);
  return ns;
}

/** The same, as epoch ms to the microsecond, rounded as stored times are (msOfNanos). */
export function parseTime(param: string, value: string | undefined): number | undefined {
  const ns = parseTimeNanos(param, value);
  return ns === undefined ? undefined : msOfNanos(ns);
}

/**
 * The bounds are compared to the nanosecond: `from` one nanosecond after `to` is refused, though
 * both fall in one stored microsecond.
 */
export function parseExactRange(from: string | undefined, to: string | undefined): ExactTimeRange {
  const fromNs = parseTimeNanos('from', from);
  const toNs = parseTimeNanos('to', to);
  if (fromNs !== undefined && toNs !== undefined && fromNs > toNs) throw errors.badRange(from!, to!);
  return {
    ...(fromNs !== undefined ? { fromMs: msOfNanos(fromNs), fromNs } : {}),
    ...(toNs !== undefined ? { toMs: msOfNanos(toNs), toNs } : {}),
  };
}

/** Rows kept to the microsecond (spans, traces, circuits) are filtered by ms alone. */
export function parseRange(from: string | undefined, to: string | undefined): { fromMs?: number; toMs?: number } {
  const { fromMs, toMs } = parseExactRange(from, to);
  return { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
}
