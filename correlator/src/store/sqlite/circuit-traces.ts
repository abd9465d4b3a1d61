// A key value's traces: the members of its episodes (trace_keys) and the traces its full episodes
// refused (refused_traces, schema.ts version 8). Correlation reads back members only; a circuit
// lists both, and a full episode stitches among both.

/**
 * The trace rows of a key value, `columns` of each: `key` and `value` are SQL (placeholders bound
 * once per table, literals, or columns of an outer query); `where` adds conditions on the row's own
 * columns. A trace may have a row of each kind.
 */
export function keyValueTraceRows(key: string, value: string, columns = 'trace_id', where = ''): string {
  // A parameter as `+@key`: compared bare with the circuit indexes' `key = 'circuit_id'`, the
  // statement was prepared anew at each run (sqlite-replans.test.ts).
  const keyIs = key.startsWith("'") ? `key = ${key}` : `key = +${key}`;
  return `SELECT ${columns} FROM trace_keys WHERE ${keyIs} AND value = ${value} ${where}
  UNION ALL SELECT ${columns} FROM refused_traces WHERE ${keyIs} AND value = ${value} ${where}`;
}

/**
 * The key value's trace ids, members and refused, whose span reaches `@fromMs`..`@toMs`, at most
 * `@limit`, the latest to end first: what an episode past MAX_TRACES_PER_CIRCUIT plans a new trace
 * among, each batch. Each kind is read from its index by last datum alone (trace_keys_near,
 * refused_traces_near): the members' primary key read all of a full episode's members to find the
 * few near. Cut at the limit, the latest are kept, the parents of the latest children: members
 * first and then the refused by their index's order, the cut dropped the newest, and every trace
 * past the limit was hung from the last one kept, minutes back (RV14).
 */
export const KEY_VALUE_TRACES_NEAR = `SELECT trace_id FROM (${keyValueTraceRows('@key', '@value', 'trace_id, last_ms', 'AND last_ms >= @fromMs AND first_ms <= @toMs')})
  ORDER BY last_ms DESC, trace_id LIMIT +@limit`;

/**
 * The same traces in no order, at most `@limit`: asked first, with one more than the limit, as
 * the ordered read sorted them all each batch (a fifth more CPU at ten traces a second of a
 * circuit) though they are rarely more than the limit.
 */
export const KEY_VALUE_TRACES_NEAR_UNORDERED = `${keyValueTraceRows('@key', '@value', 'trace_id', 'AND last_ms >= @fromMs AND first_ms <= @toMs')} LIMIT +@limit`;

/** The circuit's trace rows, for the circuit id `circuit` (SQL, as above). */
export function circuitTraceRows(circuit: string, columns = 'trace_id'): string {
  return keyValueTraceRows(`'circuit_id'`, circuit, columns);
}

/** Trace ids, for `IN (...)`: binds the circuit id twice. */
export const CIRCUIT_TRACES = circuitTraceRows('?');

/**
 * A circuit's trace ids, newest first by first datum then id, at most `@limit` (-1: all), binding
 * `@circuit`; `ranged`, those whose trace has a datum in `@fromMs`..`@toMs` (by the traces row:
 * a membership row misses a member's data that no episode counted, engine.ts pushEpisodeHolding).
 * A trace with a row of each kind counts once, at the earlier of the two (the member's at a tie).
 * Each kind is read in this order from its index (schema.ts, version 13) and the two merged: the
 * most recent traces of a circuit polled for days are read without the others.
 */
export function circuitTracesNewestFirst(ranged: boolean): string {
  return `${circuitTraceKinds(ranged)} ORDER BY first_ms DESC, trace_id DESC LIMIT +@limit`;
}

/** How many traces circuitTracesNewestFirst lists without its limit: reads every one, in order or not. */
export function circuitTracesCount(ranged: boolean): string {
  return `SELECT count(*) FROM (${circuitTraceKinds(ranged)})`;
}

/** The trace rows of either kind circuitTracesNewestFirst takes, each trace once, unordered. */
function circuitTraceKinds(ranged: boolean): string {
  const kind = (table: string, other: string, earlier: string) =>
    `SELECT c.trace_id AS trace_id, c.first_ms AS first_ms FROM ${table} c ${ranged ? 'JOIN traces t ON t.trace_id = c.trace_id' : ''}
     WHERE c.key = 'circuit_id' AND c.value = @circuit ${ranged ? 'AND t.last_ms >= @fromMs AND t.first_ms <= @toMs' : ''}
       AND NOT EXISTS (SELECT 1 FROM ${other} o WHERE o.key = 'circuit_id' AND o.value = @circuit AND o.trace_id = c.trace_id AND o.first_ms ${earlier} c.first_ms)`;
  return `${kind('trace_keys', 'refused_traces', '<')} UNION ALL ${kind('refused_traces', 'trace_keys', '<=')}`;
}

/**
 * What circuitTracesNewestFirst(true) answers, read from the range's side: the traces with a datum
 * in `@fromMs`..`@toMs` (traces_last), each probed for the circuit's row of each kind, ordered by
 * the earlier of the two. The walk of the circuit's rows cannot stop before `@limit` when the range
 * holds fewer of its traces (one whose data reach into the range by last_ms alone may be older than
 * any), so it read every row of a circuit polled for hours to list its last 10 minutes.
 */
export const CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST = `SELECT trace_id FROM (
    SELECT t.trace_id AS trace_id, min(coalesce(m.first_ms, r.first_ms), coalesce(r.first_ms, m.first_ms)) AS first_ms
    FROM traces t
      LEFT JOIN trace_keys m ON m.key = 'circuit_id' AND m.value = @circuit AND m.trace_id = t.trace_id
      LEFT JOIN refused_traces r ON r.key = 'circuit_id' AND r.value = @circuit AND r.trace_id = t.trace_id
    WHERE t.last_ms >= @fromMs AND t.first_ms <= @toMs AND (m.trace_id IS NOT NULL OR r.trace_id IS NOT NULL)
  ) ORDER BY first_ms DESC, trace_id DESC LIMIT +@limit`;

/**
 * How many traces CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST lists without its limit: the range's traces
 * (traces_last) that have a row of the circuit's, of either kind, each once.
 */
export const CIRCUIT_TRACES_OF_RANGE_COUNT = `SELECT count(*) FROM traces t
  WHERE t.last_ms >= @fromMs AND t.first_ms <= @toMs
    AND (EXISTS (SELECT 1 FROM trace_keys m WHERE m.key = 'circuit_id' AND m.value = @circuit AND m.trace_id = t.trace_id)
      OR EXISTS (SELECT 1 FROM refused_traces r WHERE r.key = 'circuit_id' AND r.value = @circuit AND r.trace_id = t.trace_id))`;

/**
 * How many of the circuit's rows (of both kinds) start in `@fromMs`..`@toMs`, counting to `@limit`:
 * each is a trace the walk of its rows newest first finds in the range (a row's data are its
 * trace's), so with as many as it lists the walk stops there.
 */
export const CIRCUIT_ROWS_STARTING_IN = `SELECT count(*) FROM (
    SELECT 1 FROM trace_keys WHERE key = 'circuit_id' AND value = @circuit AND first_ms >= @fromMs AND first_ms <= @toMs
    UNION ALL SELECT 1 FROM refused_traces WHERE key = 'circuit_id' AND value = @circuit AND first_ms >= @fromMs AND first_ms <= @toMs
    LIMIT +@limit)`;

/**
 * The circuits of the traces with a datum in from..to (`?`, `?`), as `circuitTraceIdsIn` takes a
 * circuit's traces in a range, for `circuit_id IN (...)`: read once from the traces in the range
 * (traces_last), each trace's circuits from its first and further key values, each checked against
 * the circuit's trace rows. `where` narrows the traces, on the traces row `t` (with its own `?`s,
 * bound after the range's).
 */
export function circuitsOfTracesIn(where = ''): string {
  return `SELECT p.pairs ->> (k.key + 1) FROM (
      SELECT t.trace_id, json_insert(t.more_keys, '$[#]', 'circuit_id', '$[#]', t.keys ->> '$.circuit_id') AS pairs
      FROM traces t WHERE t.last_ms >= ? AND t.first_ms <= ? ${where}
    ) p, json_each(p.pairs) k
    WHERE k.key % 2 = 0 AND k.value = 'circuit_id'
      AND EXISTS (${keyValueTraceRows(`'circuit_id'`, 'p.pairs ->> (k.key + 1)', '1', 'AND trace_id = p.trace_id')})`;
}

/**
 * For circuitsOfTracesIn: the traces with errors (a trace row's errors, as traceErrors counts them),
 * in the words traces_errors_last indexes them by (schema.ts, version 13): the range's error traces
 * are read from it, not every trace of the range.
 */
export const TRACES_WITH_ERRORS = 'AND (t.error_count > 0 OR t.error_log_count > 0)';
