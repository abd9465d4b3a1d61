// A circuit's traces: the members of its circuit id's episodes (trace_keys) and the traces its full
// episodes refused (refused_traces, schema.ts version 8). Correlation reads back members only; the
// circuit lists both.

/**
 * The circuit's trace rows, `columns` of each, for the circuit id `circuit`: a placeholder (bound
 * once per table) or a column of an outer query. A trace may have a row of each kind.
 */
export function circuitTraceRows(circuit: string, columns = 'trace_id'): string {
  return `SELECT ${columns} FROM trace_keys WHERE key = 'circuit_id' AND value = ${circuit}
  UNION ALL SELECT ${columns} FROM refused_traces WHERE key = 'circuit_id' AND value = ${circuit}`;
}

/** Trace ids, for `IN (...)`: binds the circuit id twice. */
export const CIRCUIT_TRACES = circuitTraceRows('?');

/** Rows with each trace's span, binding `@circuit`. */
export const CIRCUIT_TRACE_ROWS = circuitTraceRows('@circuit', 'trace_id, first_ms, last_ms');
