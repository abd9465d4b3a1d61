// Files the logs of no trace an episode's circuits claim (LooseLogClaim, loose-log-claims.ts)
// under those circuits, in log_circuits beside the further circuits a log names
// (log-circuits.ts), and counts them. Each log is filed under a circuit once (the table's key), and
// only a filing that is new counts: a claim made again, by a later trace, a merge or a replay,
// changes nothing. A circuit's row then holds what a recount from the logs gives it
// (retention-recount.ts, which reads them through log_circuits).
import type Database from 'better-sqlite3';
import type { CircuitDelta, LooseLogClaim } from '../derived-writes.js';
import { SEVERITY_ERROR } from '../../otlp/severity.js';
import { addService } from '../../correlation/service-list.js';

interface ClaimableLog {
  id: number;
  time_ms: number;
  severity_number: number;
  service: string;
}

export class ClaimedLogs {
  private readonly claimable: Database.Statement;
  private readonly file: Database.Statement;

  constructor(db: Database.Database) {
    // loose_logs indexes the logs of no trace by key value and time, not by log: each of its rows
    // finds its log by time (logs_time) among those of its service that carry the value, as their
    // first value of the key or further in the body or attributes they were read from.
    this.claimable = db.prepare(
      `SELECT DISTINCT l.id, l.time_ms, l.severity_number, l.service
       FROM loose_logs ll CROSS JOIN logs l
       WHERE ll.key = ? AND ll.value = ? AND ll.time_ms >= ? AND ll.time_ms <= ?
         AND l.time_ms = ll.time_ms AND l.trace_id = '' AND l.circuit_id IS NULL AND l.service = ll.service
         AND (l.keys ->> ll.key = ll.value OR instr(l.body, ll.value) > 0 OR instr(l.attributes, ll.value) > 0)`,
    );
    this.file = db.prepare('INSERT OR IGNORE INTO log_circuits (log_id, circuit_id, time_ms) VALUES (?, ?, ?)');
  }

  /** Files the claimed logs; what each circuit gains, to add to its row. */
  apply(claims: readonly LooseLogClaim[]): CircuitDelta[] {
    const gained = new Map<string, CircuitDelta>();
    for (const c of claims) {
      const logs = this.claimable.all(c.key, c.value, c.fromMs, c.toMs) as ClaimableLog[];
      for (const l of logs)
        for (const circuitId of c.circuitIds) {
          if (this.file.run(l.id, circuitId, l.time_ms).changes === 0) continue;
          let d = gained.get(circuitId);
          if (!d) gained.set(circuitId, (d = { circuitId, firstMs: l.time_ms, lastMs: l.time_ms, spanDelta: 0, errorDelta: 0, logDelta: 0, services: [], keys: {} }));
          d.logDelta++;
          if (l.severity_number >= SEVERITY_ERROR) d.errorDelta++;
          if (l.time_ms < d.firstMs) d.firstMs = l.time_ms;
          if (l.time_ms > d.lastMs) d.lastMs = l.time_ms;
          addService(d.services, l.service);
        }
    }
    return [...gained.values()];
  }
}
