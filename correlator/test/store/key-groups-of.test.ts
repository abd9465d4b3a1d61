import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { groupMapKey } from '../../src/correlation/types.js';
import { keyGroupsOf } from '../../src/store/sqlite/key-groups-of.js';
import { migrate } from '../../src/store/sqlite/schema.js';

describe('keyGroupsOf', () => {
  const cases: { name: string; rows: [key: string, value: string, traceId: string][] }[] = [
    { name: 'an empty table', rows: [] },
    { name: 'one group of one row', rows: [['circuit_id', 'C1', 't1']] },
    {
      name: 'groups of many rows, values that prefix each other, and several keys',
      rows: [
        ['circuit_id', 'C1', 't1'],
        ['circuit_id', 'C1', 't2'],
        ['circuit_id', 'C10', 't1'],
        ['circuit_id', 'C1', 't3'],
        ['product_id', 'C1', 't4'],
        ['request_id', 'R', 't5'],
        ['request_id', 'R', 't6'],
      ],
    },
    { name: 'an empty value and non-ASCII values', rows: [['circuit_id', '', 't1'], ['circuit_id', 'ü', 't2'], ['circuit_id', 'z', 't3']] },
  ];
  for (const c of cases) {
    it(`lists each (key, value) once, as SELECT DISTINCT does: ${c.name}`, () => {
      const db = new Database(':memory:');
      migrate(db, { correlatingKeys: ['circuit_id'] });
      const insert = db.prepare('INSERT INTO refused_traces (key, value, trace_id, first_ms, last_ms) VALUES (?, ?, ?, 0, 0)');
      for (const r of c.rows) insert.run(...r);
      const distinct = (db.prepare('SELECT DISTINCT key, value FROM refused_traces').raw().all() as [string, string][]).map(([k, v]) => groupMapKey(k, v));
      assert.deepEqual([...keyGroupsOf(db, 'refused_traces')].sort(), distinct.sort());
      assert.equal(keyGroupsOf(db, 'refused_traces').size, new Set(c.rows.map(([k, v]) => `${k}:${v}`)).size);
      db.close();
    });
  }
});
