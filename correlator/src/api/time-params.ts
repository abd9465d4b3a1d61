import { parseRfc3339 } from '../time/rfc3339.js';
import { errors } from './errors.js';

/** Epoch milliseconds or RFC 3339 → epoch ms; undefined stays undefined. */
export function parseTime(param: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const ms = parseRfc3339(value);
  if (ms === null) throw errors.badTime(param, value);
  return ms;
}

export function parseRange(from: string | undefined, to: string | undefined): { fromMs?: number; toMs?: number } {
  const fromMs = parseTime('from', from);
  const toMs = parseTime('to', to);
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw errors.badRange(fromMs, toMs);
  return { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
}
