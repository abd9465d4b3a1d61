// Times of an item that cannot be taken as sent. An item's times set its extent, which everything
// after decoding trusts: a circuit's first and last datum, the ranges it is listed in, the episodes
// of its correlations (a later trace within the window of an episode's end joins it, and is
// bridged) and retention (a row goes when its last datum is older than RETENTION_DAYS). An end in
// the year 2554 kept its circuit for ever, first in every list, and pulled every later trace of
// the circuit into one correlation with false bridges.
//
// A sender's clock may be off: up to FUTURE_TOLERANCE_MS ahead is skew, silently; up to
// UNKNOWN_AHEAD_MS ahead is a clock set wrong, stored with a warning (time-warnings.ts), and gone
// at most that much later than retention says. Further ahead no clock explains it: the time is
// unknown. An unknown start rejects the span, as a start of 0 always has; an unknown log time is
// its observed time or its arrival, as OTLP has it for a time of 0.
//
// A span is sent after it ends, so its end can be ahead of this server's clock by skew alone, and
// a clock set wrong moves the start with it: an end over FUTURE_TOLERANCE_MS past both is unknown.
// An unknown end, or one before the start (0 included), is the start: the span lasts 0 ms.
//
// A clock not yet set reads at or before CLOCK_SET_MS: a host without a battery-backed clock counts
// from 1970 until NTP sets it, a reset clock chip reads 2000-01-01, a time taken from uptime reads
// as 1970 plus the uptime. Such a time is unknown, as 0 is, whatever the item's other times: a
// span's end comes from the same clock, and judging the end first (an unknown end is the start)
// stored a span of 1971 to 2554 as 0 ms of 1971. Taken as sent, a span of 1971 (to now, or all of
// it) dated its trace and circuit from 1971, so they were in every time range since, last among a
// circuit's most recent traces (so out of its views), on a 56-year timeline; one from 2000-01-01
// drew a 26-year span and bridge. The line is a date, not the retention: MDSO failure spans
// rightly run from a resource's creation, months or years back, to its failure (failure-spans.ts).
import { msFromParts, nanosFromParts } from './wire-reader.js';

/** A sender's clock this far ahead of ours is wrong, not skewed. */
export const FUTURE_TOLERANCE_MS = 3_600_000;

/** A time this far ahead of ours is no clock's. */
export const UNKNOWN_AHEAD_MS = 86_400_000;

/** At or before this, a time is of a clock not yet set (above). */
export const CLOCK_SET_MS = Date.UTC(2000, 0, 1);

/**
 * Whether a fixed64 time is one the correlator dates an item by: set (the correlator keeps
 * microseconds, so under one reads as 0, unset), after CLOCK_SET_MS, not beyond UNKNOWN_AHEAD_MS.
 */
export function isKnownTime(lo: number, hi: number, nowMs: number): boolean {
  return isKnownMs(msFromParts(lo, hi), nowMs);
}

/**
 * isKnownTime of a time read to the microsecond (msOfNanos): one of a JSON log batch, which can be
 * at or before 1970 (OTLP's 0, unset) as a fixed64 cannot be before it.
 */
export function isKnownMs(ms: number, nowMs: number): boolean {
  return ms > CLOCK_SET_MS && ms <= nowMs + UNKNOWN_AHEAD_MS;
}

/** Whether a span with `startMs` can have ended at `endMs` by the rule above (an end before the start is judged apart). */
export function isKnownEnd(startMs: number, endMs: number, nowMs: number): boolean {
  return endMs <= (startMs > nowMs ? startMs : nowMs) + FUTURE_TOLERANCE_MS;
}

/** Whether fixed64 time a is before b. */
export function isBefore(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}

/** A fixed64 time as a message quotes it: the value sent, and the instant it names. */
export function quotedTime(field: string, lo: number, hi: number): string {
  const ns = nanosFromParts(lo, hi);
  return ns === '0' ? `${field} 0` : `${field} ${ns} (${new Date(msFromParts(lo, hi)).toISOString()})`;
}

/** How a time at or before CLOCK_SET_MS is named, after its field and value. */
export const NOT_AFTER_CLOCK_SET = 'is not after 2000-01-01T00:00:00Z (to the microsecond), a clock not yet set';

/** Why isKnownTime refuses a time that is set, `field` quoted. */
function unknownTime(field: string, lo: number, hi: number): string {
  const ms = msFromParts(lo, hi);
  if (ms === 0) return `${field} is ${nanosFromParts(lo, hi)}, under a microsecond after 1970-01-01T00:00:00Z, which reads as 0 (unset)`;
  if (ms <= CLOCK_SET_MS) return `${quotedTime(field, lo, hi)} ${NOT_AFTER_CLOCK_SET}`;
  return `${quotedTime(field, lo, hi)} is more than a day ahead of this server's clock, further than any clock is off`;
}

/**
 * Why a span's start is refused by isKnownTime: it has none the correlator can date it by. One of a
 * clock not yet set names the end too, which does not save it.
 */
export function startRefusal(startLo: number, startHi: number, endLo: number, endHi: number): string {
  if (startLo === 0 && startHi === 0) return 'has no start time (start_time_unix_nano is 0)';
  const ms = msFromParts(startLo, startHi);
  const unknown = unknownTime('start_time_unix_nano', startLo, startHi);
  if (ms === 0) return `has no start time: ${unknown}`;
  if (ms <= CLOCK_SET_MS) {
    return `has no start time: ${unknown} when the span began, whatever its ${quotedTime('end_time_unix_nano', endLo, endHi)} (check the sender's clock)`;
  }
  return `has no start time: ${unknown} (check the sender's clock)`;
}

/** The warning for a span whose end is taken as its start (isBefore or not isKnownEnd). */
export function endWarning(startLo: number, startHi: number, endLo: number, endHi: number): string {
  const end = quotedTime('end_time_unix_nano', endLo, endHi);
  const start = quotedTime('start_time_unix_nano', startLo, startHi);
  if (isBefore(endLo, endHi, startLo, startHi)) return `${end} is before its ${start}: taken as ending at its start`;
  return `${end} is over an hour past both its ${start} and this server's clock: unknown, taken as ending at its start`;
}

/** A log record's time that is set but refused by isKnownTime, and what dates the record instead. */
export function logTimeWarning(lo: number, hi: number, datedBy: 'observed time' | 'arrival'): string {
  return `${unknownTime('time_unix_nano', lo, hi)}: taken as unknown, the record is dated by its ${datedBy}`;
}

/**
 * A span's bytes with its end_time_unix_nano (the 8 bytes at `endAt`) replaced by its start (at
 * `startAt`), so every view shows the end its extent has. A copy: the request's bytes stay as sent.
 */
export function withEndAtStart(span: Uint8Array, startAt: number, endAt: number): Uint8Array {
  const copy = new Uint8Array(span);
  copy.copyWithin(endAt, startAt, startAt + 8);
  return copy;
}
