// What makes SQLite plan a statement worse, or again at every run, though EXPLAIN shows the plan
// one expects.
// - A partial index serves only a query whose WHERE states its condition (or one SQLite can prove
//   implies it). `logs_trace` holds the lines with a trace (`trace_id != ''`): `trace_id = ?` alone
//   cannot use it, and a trace's lines were found by reading every line (`/api/logs?trace_id=`,
//   and the service graph's count of failed lines, on every call).
// - Proving it from a bound parameter has a price. `trace_keys_circuit_first` and
//   `refused_traces_circuit_first` hold the rows `key = 'circuit_id'`; a statement comparing `key`
//   with a parameter is prepared anew at each run, to match the bound value against that literal:
//   5–10 µs a run for a lookup of 1–2. Written `key = +?`, the comparison still seeks by the key
//   but is not matched against the index's condition.
// - SQLite 3.49 (better-sqlite3 12) also prepares anew at each run a statement whose LIMIT is a
//   bound parameter: ~3 µs more a run (6 against 3 for a five-row read in memory), measured on
//   the reads a circuit past MAX_TRACES_PER_CIRCUIT makes each batch. `LIMIT +?` is not.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type Database from 'better-sqlite3';
import { buildLogs, buildTraces, logsJson, tracesJson } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from '../api/app-fixture.js';

/** The plans of every statement prepared on `db` while `run` runs, with the arguments it ran with. */
async function plansDuring(db: Database.Database, run: () => Promise<unknown>): Promise<{ sql: string; plan: string }[]> {
  const prepared: { sql: string; args: unknown[] }[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    const seen = { sql, args: [] as unknown[] };
    prepared.push(seen);
    for (const method of ['all', 'get', 'iterate', 'run'] as const) {
      const original = (statement[method] as (...a: unknown[]) => unknown).bind(statement);
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        seen.args = args;
        return original(...args);
      };
    }
    return statement;
  }) as typeof db.prepare;
  try {
    await run();
  } finally {
    db.prepare = prepare as typeof db.prepare;
  }
  return prepared.map(({ sql, args }) => ({
    sql,
    plan: (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map(r => r.detail).join('\n'),
  }));
}

it("reads a trace's lines from the trace index, for the log list and the service graph", async t => {
  const app = await buildTestApp(t);
  const at = Date.now() - 60_000;
  const [trace] = await buildTraces([{ service: 'beorn', spans: [{ name: 'activate', startMs: at, endMs: at + 100, attributes: { circuit_id: 'PLAN-1' } }] }]);
  await postAccepted(app, '/v1/traces', tracesJson(trace!.spans) as object);
  const lines = Array.from({ length: 50 }, (_, i) => ({ body: `line ${i}`, atMs: at + i, severity: 17 as const, severityText: 'ERROR', traceId: trace!.traceId }));
  await postAccepted(app, '/v1/logs', logsJson(await buildLogs('beorn', lines)) as object);
  const store = app.correlator.store;
  const reads: [string, () => Promise<unknown>][] = [
    ['a trace’s lines', () => store.logs({ trace_id: trace!.traceId, limit: 10 })],
    ['the service graph', () => store.serviceGraph({ maxTraces: 100 })],
    ['a circuit’s graph', () => store.serviceGraph({ circuitId: 'PLAN-1', maxTraces: 100 })],
  ];
  for (const [what, read] of reads) {
    const plans = await plansDuring(store.db, read);
    const ofLogs = plans.filter(p => /\bFROM logs\b/.test(p.sql));
    assert.ok(ofLogs.length > 0, `${what}: a statement reads the logs`);
    for (const { sql, plan } of ofLogs) {
      assert.doesNotMatch(plan, /\bSCAN (logs|l)\b(?! USING INDEX logs_trace)/, `${what}: every line read\n${sql}\n${plan}`);
      assert.match(plan, /logs_trace/, `${what}: by the trace index\n${sql}\n${plan}`);
    }
  }
});

it('compares trace_keys and refused_traces keys with a parameter as `key = +?`', () => {
  const dir = join(import.meta.dirname, '../../src/store/sqlite');
  const offending: string[] = [];
  for (const file of readdirSync(dir).filter(f => f.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    // Each SQL string or template of the file that names one of the two tables.
    for (const literal of text.match(/`[^`]*`|'[^'\n]*'/g) ?? []) {
      if (!/\b(trace_keys|refused_traces)\b|\$\{table\}/.test(literal)) continue;
      // An operand built in (`${key}`) is its builder's to write so (keyValueTraceRows).
      for (const m of literal.matchAll(/(?<![+.\w])key\s*=\s*([?@:]\w*)/g)) offending.push(`${file}: ${m[0]} in ${literal.slice(0, 120)}`);
    }
  }
  assert.deepEqual(offending, []);
});

it('binds no LIMIT bare (`LIMIT +?`)', () => {
  const root = join(import.meta.dirname, '../../src');
  const offending: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts'))
        for (const m of readFileSync(path, 'utf8').matchAll(/\bLIMIT\s+[?@:]\w*/g)) offending.push(`${path.slice(root.length + 1)}: ${m[0]}`);
    }
  };
  walk(root);
  assert.deepEqual(offending, []);
});
