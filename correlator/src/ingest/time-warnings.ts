// Items accepted with a time the store will not keep as the sender expects: older than retention
// (the next sweep deletes them, so a 2xx followed by nothing was a mystery) or far ahead of this
// server's clock (a sender's clock set wrong keeps its circuit first in every "most recent" list).
// They are stored all the same: the OTLP partial_success message carries warnings with no rejection.

import { FUTURE_TOLERANCE_MS } from '../otlp/item-times.js';

export interface TimeBounds {
  retentionDays: number;
}

/** The warnings for a request's items, each spanning [firstMs(item), lastMs(item)], in the request's words. */
export function timeWarnings<T>(
  items: readonly T[],
  firstMs: (item: T) => number,
  lastMs: (item: T) => number,
  what: string,
  nowMs: number,
  bounds: TimeBounds,
): string[] {
  const cutoffMs = nowMs - bounds.retentionDays * 86_400_000;
  const aheadMs = nowMs + FUTURE_TOLERANCE_MS;
  let old = 0;
  let ahead = 0;
  for (const item of items) {
    if (lastMs(item) < cutoffMs) old++;
    else if (firstMs(item) > aheadMs) ahead++;
  }
  const warnings: string[] = [];
  if (old)
    warnings.push(
      `${old} ${what} older than the retention of ${bounds.retentionDays} days (RETENTION_DAYS) stored: the next retention sweep ` +
        `deletes them, with their trace unless it has newer data`,
    );
  if (ahead) warnings.push(`${ahead} ${what} dated over an hour ahead of this server's clock stored: check the sender's clock`);
  return warnings;
}
