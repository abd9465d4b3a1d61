// The ORDER BY of every list the API cuts at `limit`. Rows that tie on their time are ordered by a
// key made from their content, never by rowid or arrival: two stores holding the same data, fed in
// different orders, must list the same first `limit`. Each leading column has an index of its own
// (schema.ts), which SQLite walks in order and sorts only the rows of one time by the tie key.

/** Correlations, latest end first; ties by id, a hash of method, value and episode start (ids.ts). */
export const CORRELATIONS_NEWEST_FIRST = 'last_ms DESC, id';

/**
 * Logs, newest first, to the nanosecond: `time_ms` keeps the microsecond, and lines of one
 * microsecond out of their order broke paging by time (Loki's `to` = oldest line − 1 ns). Ties by
 * the hash of the record's content they are deduplicated by.
 */
export const LOGS_NEWEST_FIRST = 'time_ms DESC, CAST(time_unix_nano AS INTEGER) DESC, dedupe';

/** Logs, oldest first (`direction=forward`): the same order backwards, ties included. */
export const LOGS_OLDEST_FIRST = 'time_ms, CAST(time_unix_nano AS INTEGER), dedupe DESC';

/** Circuits, latest datum first; ties by circuit id. */
export const CIRCUITS_NEWEST_FIRST = 'last_ms DESC, circuit_id';

/** Traces, latest datum first (the service graph's most recent); ties by trace id. */
export const TRACES_NEWEST_FIRST = 'last_ms DESC, trace_id';

/** Items listed by a text id (service-graph nodes and edges), in code-unit order as SQLite's. */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
