// RFC 3339 timestamps, strictly. Date.parse accepted "1" (2001-01-01), "Dec 25" and times without
// a zone (read in the server's zone): a log acknowledged with such a time was filed years back and
// removed by the next retention sweep.

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Epoch nanoseconds, exact to the digits given, or null if `text` is not RFC 3339. */
export function parseRfc3339Nanos(text: string): bigint | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > new Date(utcMs(year, month, 0, 0, 0, 0)).getUTCDate())
    return null;
  // 60 is a leap second, which epoch time does not count: it is read as the end of the minute.
  if (hour > 23 || minute > 59 || second > 60) return null;
  let offsetMinutes = 0;
  if (!m[8]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const baseMs = utcMs(year, month - 1, day, hour, minute, Math.min(second, 59)) - offsetMinutes * 60_000;
  const fraction = second === 60 ? 999_999_999n : BigInt((m[7] ?? '').padEnd(9, '0'));
  return BigInt(baseMs) * 1_000_000n + fraction;
}

/**
 * Date.UTC, but a year of 0-99 is that year: Date.UTC reads it as 1900-1999, so
 * `0051-01-01T00:00:00Z` came after `1950-01-01T00:00:00Z`, and Go's zero time was 1901.
 */
function utcMs(year: number, monthIndex: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(Date.UTC(2000, 0, 1));
  d.setUTCFullYear(year, monthIndex, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/**
 * Epoch milliseconds to the microsecond, cut rather than rounded (a leap second's 23:59:60 stays
 * in its minute), or null if `text` is not RFC 3339. Stored and query times use msOfNanos.
 */
export function parseRfc3339(text: string): number | null {
  const ns = parseRfc3339Nanos(text);
  return ns === null ? null : Number(ns / 1000n) / 1000;
}

/**
 * Epoch nanoseconds as milliseconds to the microsecond, rounded as span times are read
 * (wire-reader.ts, msFromParts, which works on the two 32-bit halves instead). Every time the
 * store keeps and every time a query gives goes through one of the two, so they compare alike:
 * logs were cut where spans were rounded, and a query rounded, so `from=to=` a log's own
 * nanoseconds could miss it.
 */
export function msOfNanos(ns: bigint): number {
  return Number((ns + 500n) / 1000n) / 1000;
}
