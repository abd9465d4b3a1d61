// A ranged circuit list with status= finds the circuits with an error in the range from the range's
// error traces, read by their index (schema.ts, version 13, traces_errors_last): reading every trace
// of a day for its error count took 340 ms over 220,000 traces.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TRACES_WITH_ERRORS, circuitsOfTracesIn } from '../../src/store/sqlite/circuit-traces.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

it("reads a range's error traces from their index, and every trace of it otherwise", t => {
  const store = new SqliteStore({ dataDir: ':memory:', exportBridges: null });
  t.after(() => store.close());
  const rows: [string, RegExp][] = [
    [TRACES_WITH_ERRORS, /SEARCH t USING INDEX traces_errors_last \(last_ms>\?\)/],
    ['', /SEARCH t USING INDEX traces_last \(last_ms>\?\)/],
  ];
  for (const [where, index] of rows) {
    const sql = `SELECT 1 WHERE 'c' IN (${circuitsOfTracesIn(where)})`;
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(0, 1) as { detail: string }[]).map(r => r.detail).join('\n');
    assert.match(plan, index, `${where || 'all traces'}:\n${plan}`);
  }
});
