// A circuit's traces: the members of its circuit id's episodes (trace_keys) and the traces its full
// episodes refused (refused_traces, schema.ts version 8). Correlation reads back members only; the
// circuit lists both.

/** Trace ids, for `IN (...)`: binds the circuit id twice. */
export const CIRCUIT_TRACES = `SELECT trace_id FROM trace_keys WHERE key = 'circuit_id' AND value = ?
  UNION ALL SELECT trace_id FROM refused_traces WHERE key = 'circuit_id' AND value = ?`;

/** Rows with each trace's span, binding `@circuit`: a trace may have one of each kind. */
export const CIRCUIT_TRACE_ROWS = `SELECT trace_id, first_ms, last_ms FROM trace_keys WHERE key = 'circuit_id' AND value = @circuit
  UNION ALL SELECT trace_id, first_ms, last_ms FROM refused_traces WHERE key = 'circuit_id' AND value = @circuit`;
