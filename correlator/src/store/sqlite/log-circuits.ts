// A log record can name several circuits (a circuit_id array, found-keys.ts), and one of no trace
// counts for each (engine.ts). It is listed and recounted under each too: its logs row holds the
// first in circuit_id, and log_circuits (schema.ts, version 14) a row for each other one, written
// with the log and deleted with it. Nearly every log names one circuit at most and writes none.
import type { DecodedLog } from '../../otlp/decoded.js';

/**
 * The circuits `log` names besides `first` (its row's circuit_id), each once; null when none,
 * without allocating: the usual log has no further key values.
 */
export function furtherCircuitsOf(log: Pick<DecodedLog, 'moreKeys'>, first: string | null): string[] | null {
  const more = log.moreKeys;
  if (!more) return null;
  let out: string[] | null = null;
  for (let i = 0; i < more.length; i += 2) {
    const v = more[i + 1]!;
    if (more[i] === 'circuit_id' && v !== first && !out?.includes(v)) (out ??= []).push(v);
  }
  return out;
}

/**
 * A condition on a logs row: the log names the circuit `circuit` (SQL: a placeholder, bound twice,
 * or an outer column), first or further.
 */
export function logNamesCircuit(circuit: string): string {
  return `(circuit_id = ${circuit} OR id IN (SELECT log_id FROM log_circuits WHERE circuit_id = ${circuit}))`;
}

/**
 * Whether a log naming the circuit `circuit` (SQL) has its time in `?`..`?`, with `where` on its
 * logs row (unqualified columns other than circuit_id and time_ms, with its own `?`s): binds the
 * range and `where`'s arguments twice. Each way a log names a circuit is sought in its own index
 * (logs_circuit, log_circuits_circuit) by circuit and time, as one condition would not be.
 */
export function circuitLogIn(circuit: string, where = ''): string {
  return `(EXISTS (SELECT 1 FROM logs WHERE circuit_id = ${circuit} AND time_ms >= ? AND time_ms <= ? ${where})
    OR EXISTS (SELECT 1 FROM log_circuits c JOIN logs ON logs.id = c.log_id
      WHERE c.circuit_id = ${circuit} AND c.time_ms >= ? AND c.time_ms <= ? ${where}))`;
}
