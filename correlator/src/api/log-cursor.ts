// A log page's cursor: the place of its last line in the logs' total order, so the next page starts
// right after it. Time bounds cannot do that when more than a page of lines share one nanosecond
// (the JSON batch API's lines often carry milliseconds only, and timeless records share their
// arrival). Opaque to clients; versioned so the encoding can change without misreading old ones.
import type { LogEntry } from '@correlation-station/api-schema';
import type { ListedLog, LogPosition } from '../store/store.js';
import { errors } from './errors.js';
import { msOfNanos } from '../time/rfc3339.js';
import { firstOfLimit } from './list-limit.js';

const VERSION = 1;
/** What the store writes: nanoseconds in decimal, a line's hash a base64 digest (log-identity.ts). */
const NANOS = /^\d{1,20}$/;
const HASH = /^[A-Za-z0-9+/]{20,43}={0,2}$/;
/**
 * How far a line's stored time may be from its nanoseconds: rows kept before the time rules of
 * 2026-12-07 were rounded otherwise, never by a millisecond.
 */
const TIME_SLACK_MS = 1;

export function encodeLogCursor(position: LogPosition): string {
  return Buffer.from(JSON.stringify([VERSION, position.timeMs, position.timeUnixNano, position.dedupe])).toString('base64url');
}

/** The position a cursor names; a 400 naming `param` for anything this API did not give. */
export function decodeLogCursor(param: string, text: string): LogPosition {
  const refuse = (why: string) => errors.badCursor(param, text, why);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw refuse('it is not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw refuse('it does not decode');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw refuse('it does not decode');
  const [version, timeMs, timeUnixNano, dedupe] = parsed as unknown[];
  if (version !== VERSION) throw refuse(`its version is not ${VERSION}`);
  if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) throw refuse('its time is not a number');
  if (typeof timeUnixNano !== 'string' || !NANOS.test(timeUnixNano)) throw refuse('its nanoseconds are not a stored time');
  // A hand-edited cursor would otherwise list from a place no line has, silently.
  if (Math.abs(timeMs - msOfNanos(BigInt(timeUnixNano))) > TIME_SLACK_MS) throw refuse('its time and nanoseconds disagree');
  if (typeof dedupe !== 'string' || !HASH.test(dedupe)) throw refuse('its line hash is not one');
  return { timeMs, timeUnixNano, dedupe };
}

/** The store's `after` for a query's `cursor` parameter, to spread into its query; nothing without one. */
export function pastCursor(cursor: string | undefined): { after?: LogPosition } {
  return cursor === undefined ? {} : { after: decodeLogCursor('cursor', cursor) };
}

/** A page of a list fetched one past `limit`: its lines, and when it was cut, the cursor past them. */
export function logPage(fetched: ListedLog[], limit: number): { logs: LogEntry[]; truncated: boolean; nextCursor?: string } {
  const { items, truncated } = firstOfLimit(fetched, limit);
  // The place is the store's, not the API's: each line is given without it.
  const logs = items.map(({ position: _position, ...entry }) => entry);
  const last = items.at(-1);
  return truncated && last ? { logs, truncated, nextCursor: encodeLogCursor(last.position) } : { logs, truncated };
}
