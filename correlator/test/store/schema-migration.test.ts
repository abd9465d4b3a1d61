// A data directory written by an older schema opens under the current one with nothing lost: the
// rebuilt tables keep every row, bridge links and bridge spans are served from the bridge rows, and
// a newer schema is refused.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { encodeSpanChunk } from '../../src/store/sqlite/span-chunk.js';
import { encodeBridgeSpan } from '../../src/stitching/bridge-span.js';
import type { BridgePlan } from '../../src/correlation/types.js';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { emptyDerivedWrites } from '../../src/store/derived-writes.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { testCleanup } from '../helpers/cleanup.js';

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);
const T3 = 'c'.repeat(32);
const CIRCUIT = '51.KGFN.000001..CHTR';

async function dataDirWith(t: TestContext, build: (db: Database.Database) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-migrate-'));
  testCleanup(t)(() => rm(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'correlator.db'));
  build(db);
  db.close();
  return dir;
}

async function v1Directory(t: TestContext): Promise<string> {
  const ddl = await readFile(new URL('./fixtures/schema-v1.sql', import.meta.url), 'utf8');
  return dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`
      INSERT INTO meta VALUES ('schema_version', '1');
      INSERT INTO traces VALUES ('${T1}', 1000, 1500, 3, 1, 0, '["beorn"]', NULL, '{"circuit_id":"${CIRCUIT}"}', '[]', 1600);
      INSERT INTO traces VALUES ('${T2}', 2000, 2500, 2, 0, 1, '["arda"]', NULL, '{"circuit_id":"${CIRCUIT}"}', '["${T3}"]', 2600);
      INSERT INTO trace_keys VALUES ('circuit_id', '${CIRCUIT}', '${T1}', 1000, 1500), ('circuit_id', '${CIRCUIT}', '${T2}', 2000, 2500);
      INSERT INTO circuits VALUES ('${CIRCUIT}', 1000, 2500, 2, 5, 1, 1, 1, '["beorn","arda"]', '{"circuit_id":"${CIRCUIT}"}', 2600);
      INSERT INTO correlations VALUES ('corr-1', 'circuit_id_match', 'circuit_id', '${CIRCUIT}', 0.95, 1000, 2500,
        '["${T1}","${T2}"]', '["beorn","arda"]', 5, 1, 1600, 2600);
      INSERT INTO bridges VALUES ('1111111111111111', '${T1}', '0000000000000001', 'beorn', 1000, '${T2}', '0000000000000002',
        'arda', 2000, 'circuit_id', '${CIRCUIT}', 'circuit_id_match', 0.95, 2600);
      INSERT INTO resources VALUES (2, 'h2', 'arda', 'arda.instrumentation', '1', x'0a00');
      INSERT INTO resources VALUES (3, 'h3', 'correlation-station', '', '', x'0a01');
      INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_ms, end_ms, status_code, synthetic,
        resource_id, body, received_ms)
        VALUES ('${T2}', '0000000000000003', '0000000000000002', 'arda', 'get_topology', 3, 2100.5, 2200.25, 2, 0, 2, x'0102', 2600),
               ('${T2}', '0000000000000002', '', 'arda', 'serve', 2, 2000, 2500, 0, 0, 2, x'03', 2700),
               ('${T1}', '1111111111111111', '0000000000000001', 'correlation-station', 'beorn_to_arda_bridge', 1, 1000, 2000, 0, 1, 3,
                x'00', 2600);
      INSERT INTO links VALUES ('${T1}', '1111111111111111', '${T2}', '0000000000000002', 'bridge');
      INSERT INTO links VALUES ('${T2}', '0000000000000003', '${T3}', '0000000000000004', 'otlp');
    `);
  });
}

/** The fixture's bridge row as a plan: what its span's bytes are made from. */
const V1_BRIDGE: BridgePlan = {
  spanId: '1111111111111111',
  traceId: T1,
  parentSpanId: '0000000000000001',
  parentService: 'beorn',
  parentStartMs: 1000,
  childTraceId: T2,
  childSpanId: '0000000000000002',
  childService: 'arda',
  childStartMs: 2000,
  key: 'circuit_id',
  value: CIRCUIT,
  method: 'circuit_id_match',
  confidence: 0.95,
  basis: 'unknown',
};

function open(dir: string): SqliteStore {
  return new SqliteStore({ dataDir: dir, exportBridges: null });
}

test('a schema 1 data directory is upgraded with every row kept', async t => {
  const store = open(await v1Directory(t));
  testCleanup(t)(() => store.close());

  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  const circuit = await store.getCircuit(CIRCUIT);
  assert.deepEqual(
    circuit && { traces: circuit.traceCount, spans: circuit.spanCount, errors: circuit.errorCount, bridges: circuit.bridgeCount },
    { traces: 2, spans: 5, errors: 1, bridges: 1 },
  );
  assert.deepEqual(await store.circuitTraceIds(CIRCUIT), [T1, T2]);
  assert.deepEqual(
    (await store.traceSummaries([T2, T1])).map(s => [s.traceId, s.spanCount]),
    [
      [T1, 3],
      [T2, 2],
    ],
  );
  assert.deepEqual(
    (await store.correlations({ circuit_id: CIRCUIT, limit: 10 })).map(c => [c.id, c.traceIds]),
    [['corr-1', [T1, T2]]],
  );
  assert.deepEqual(
    (await store.bridgesOf({ circuitId: CIRCUIT })).map(b => [b.spanId, b.childTraceId]),
    [['1111111111111111', T2]],
  );
  // The bridge link row is gone from the links table and served from the bridge row, once.
  assert.equal(store.db.prepare(`SELECT count(*) FROM links WHERE origin = 'bridge'`).pluck().get(), 0);
  const links = await store.links(T2);
  assert.deepEqual(
    links.in.map(l => [l.sourceTraceId, l.sourceSpanId, l.origin]),
    [[T1, '1111111111111111', 'bridge']],
  );
  assert.deepEqual(
    links.out.map(l => [l.targetTraceId, l.origin]),
    [[T3, 'otlp']],
  );
  // Received spans moved into one chunk per trace, with their bytes and the fields queries read;
  // the bridge span is its bridge row, with the resource its span row had.
  assert.equal(store.db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'spans'`).pluck().get(), 0);
  const bridgeSpans = (await store.spansOfTraces([T1], 10)).spans;
  assert.deepEqual(
    bridgeSpans.map(sp => [sp.spanId, sp.synthetic, sp.service, sp.startMs, sp.resource.id]),
    [['1111111111111111', true, 'correlation-station', 1000, 3]],
  );
  assert.deepEqual([...bridgeSpans[0]!.body!], [...encodeBridgeSpan(V1_BRIDGE)]);
  const { spans, total } = await store.spansOfTraces([T2], 10);
  assert.equal(total, 2);
  assert.deepEqual(
    spans.map(sp => [sp.spanId, sp.startMs, sp.synthetic, sp.service, [...sp.body]]),
    [
      ['0000000000000002', 2000, false, 'arda', [0x03]],
      ['0000000000000003', 2100.5, false, 'arda', [0x01, 0x02]],
    ],
  );
  const graph = await store.serviceGraph({ circuitId: CIRCUIT, maxTraces: 10 });
  const arda = graph.nodes.find(n => n.id === 'arda');
  assert.deepEqual(arda && [arda.spanCount, arda.errorCount], [2, 1]);
  // The rebuilt tables have their indexes back and no leftovers.
  const names = store.db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE '%_v1' OR name LIKE '%_v2' OR name = 'trace_keys_trace'`).pluck().all();
  assert.deepEqual(names, []);
  for (const index of ['traces_last', 'circuits_last', 'correlations_value', 'bridges_child_ref', 'bridges_hop_group', 'span_chunks_trace_ref']) {
    assert.equal(store.db.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`).pluck().get(index), 1, index);
  }
});

test('the upgrade happens once: reopening an upgraded directory changes nothing', async t => {
  const dir = await v1Directory(t);
  await open(dir).close();
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal((await store.getCircuit(CIRCUIT))?.traceCount, 2);
  assert.equal((await store.links(T1)).out.length, 1);
});

test('a data directory from a newer correlator is refused with the versions named', async t => {
  const dir = await dataDirWith(t, db => {
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '99');`);
  });
  assert.throws(() => open(dir), new RegExp(`newer correlator \\(schema 99, this one knows ${SCHEMA_VERSION}\\)`));
});

test('a schema 2 data directory keeps its bridge spans, now served from the bridge rows', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v2.sql', import.meta.url), 'utf8');
  const plan: BridgePlan = { ...V1_BRIDGE, parentStartMs: 1000.125, childStartMs: 2000.5, confidence: 0.9 };
  const stored = Buffer.from(encodeBridgeSpan(plan));
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '2');
      INSERT INTO resources (id, hash, service, scope_name, scope_version, body) VALUES (7, 'h7', 'correlation-station', '', '', x'0a01');`);
    db.prepare(
      `INSERT INTO bridges (span_id, trace_id, parent_span_id, parent_service, parent_start_ms, child_trace_id, child_span_id,
         child_service, child_start_ms, key, value, method, confidence, created_ms)
       VALUES (@spanId, @traceId, @parentSpanId, @parentService, @parentStartMs, @childTraceId, @childSpanId,
         @childService, @childStartMs, @key, @value, @method, @confidence, 2600)`,
    ).run(plan);
    db.prepare(
      `INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_ms, end_ms, status_code, synthetic,
         resource_id, body, received_ms) VALUES (?, ?, ?, 'correlation-station', 'beorn_to_arda_bridge', 1, ?, ?, 0, 1, 7, ?, 2600)`,
    ).run(plan.traceId, plan.spanId, plan.parentSpanId, plan.parentStartMs, plan.childStartMs, stored);
    // A bridge span whose bridge row is gone has nothing to stand for: it goes with the table.
    db.prepare(
      `INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_ms, end_ms, status_code, synthetic,
         resource_id, body, received_ms) VALUES (?, '2222222222222222', '', 'correlation-station', 'x', 1, 1, 2, 0, 1, 7, x'00', 2600)`,
    ).run(T3);
    db.exec(`INSERT INTO export_queue (ref, due_ms, attempts, created_ms) VALUES ('${plan.traceId}:${plan.spanId}', 0, 0, 2600)`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(
    store.db.prepare(`SELECT name FROM sqlite_master WHERE name IN ('spans', 'bridges_v2', 'bridges_trace') OR tbl_name = 'bridges' ORDER BY name`).pluck().all(),
    ['bridges', 'bridges_child_ref', 'bridges_hop_group', 'bridges_value'],
  );
  const { spans } = await store.spansOfTraces([T1, T3], 10);
  assert.deepEqual(
    spans.map(sp => [sp.traceId, sp.spanId, sp.synthetic, sp.startMs, sp.resource.id]),
    [[T1, plan.spanId, true, 1000.125, 7]],
  );
  assert.deepEqual(spans[0]!.body, stored, 'the bytes made from the row are the bytes schema 2 stored');
  // The exporter reads the same span by its queue reference.
  const [due] = store.dueExports(Date.now(), 10);
  assert.deepEqual(due?.span?.body, stored);
  assert.equal(due?.span?.resource.id, 7);
});

test('a schema 3 data directory finds its chunks by trace row, and drops those whose row retention deleted', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v3.sql', import.meta.url), 'utf8');
  const { meta, body } = encodeSpanChunk([
    { spanId: '0000000000000002', parentSpanId: '', startMs: 2000, endMs: 2500, kind: 2, statusCode: 0, resourceId: 2, bytes: Buffer.from([3]) },
  ]);
  const later = encodeSpanChunk([
    { spanId: '0000000000000003', parentSpanId: '0000000000000002', startMs: 2100, endMs: 2200, kind: 3, statusCode: 2, resourceId: 2, bytes: Buffer.from([1, 2]) },
  ]);
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '3');
      INSERT INTO resources (id, hash, service, scope_name, scope_version, body) VALUES (2, 'h2', 'arda', '', '', x'0a00');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, services, keys, linked, updated_ms)
        VALUES (5, '${T1}', 900, 950, 0, '[]', '{}', '[]', 950), (9, '${T2}', 2000, 2500, 2, '["arda"]', '{}', '[]', 2600);`);
    db.prepare(
      `INSERT INTO bridges (span_id, trace_id, parent_span_id, parent_service, parent_start_ms, child_trace_id, child_span_id,
         child_service, child_start_ms, key, value, method, confidence, created_ms, resource_id)
       VALUES (@spanId, @traceId, @parentSpanId, @parentService, @parentStartMs, @childTraceId, @childSpanId,
         @childService, @childStartMs, @key, @value, @method, @confidence, 2600, 0)`,
    ).run(V1_BRIDGE);
    db.prepare(
      `INSERT INTO bridges (span_id, trace_id, parent_span_id, parent_service, parent_start_ms, child_trace_id, child_span_id,
         child_service, child_start_ms, key, value, method, confidence, created_ms, resource_id)
       VALUES ('3333333333333333', @traceId, @parentSpanId, @parentService, @parentStartMs, '${T3}', @childSpanId,
         @childService, @childStartMs, @key, @value, @method, @confidence, 2600, 0)`,
    ).run(V1_BRIDGE);
    const insert = db.prepare('INSERT INTO span_chunks (id, trace_id, received_ms, span_count, meta, body) VALUES (?, ?, 2600, 1, ?, ?)');
    insert.run(1, T2, meta, body);
    insert.run(2, T3, meta, body);
    insert.run(3, T2, later.meta, later.body);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  const { spans } = await store.spansOfTraces([T2, T3], 10);
  assert.deepEqual(
    spans.map(sp => [sp.traceId, sp.spanId, sp.service, [...sp.body]]),
    [
      [T2, '0000000000000002', 'arda', [3]],
      [T2, '0000000000000003', 'arda', [1, 2]],
    ],
  );
  assert.deepEqual(store.db.prepare('SELECT id, trace_ref FROM span_chunks ORDER BY id').raw().all(), [
    [1, 9],
    [3, 9],
  ]);
  assert.deepEqual(
    store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('span_chunks', 'bridges') ORDER BY name`).pluck().all(),
    ['bridges_child_ref', 'bridges_hop_group', 'bridges_value', 'span_chunks_received', 'span_chunks_segment', 'span_chunks_trace_ref'],
  );
  // Bridges are found through their traces' rows; one whose child has no row still is from its parent's.
  assert.deepEqual(store.db.prepare('SELECT span_id, parent_ref, child_ref FROM bridges ORDER BY span_id').raw().all(), [
    [V1_BRIDGE.spanId, 5, 9],
    ['3333333333333333', 5, 0],
  ]);
  const links = await store.links(T2);
  assert.deepEqual(
    links.in.map(l => [l.sourceTraceId, l.sourceSpanId, l.origin]),
    [[T1, V1_BRIDGE.spanId, 'bridge']],
  );
  assert.deepEqual(
    (await store.bridgesOf({ traceId: T1 })).map(b => b.spanId),
    [V1_BRIDGE.spanId, '3333333333333333'],
  );
  const [due] = (store.db.exec(`INSERT INTO export_queue (ref, due_ms, attempts, created_ms) VALUES ('${T1}:${V1_BRIDGE.spanId}', 0, 0, 2600)`), store.dueExports(Date.now(), 10));
  assert.equal(due?.span?.spanId, V1_BRIDGE.spanId);
});

test("a schema 4 data directory keeps its traces, which start with no further key values", async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v4.sql', import.meta.url), 'utf8');
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '4');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, services, keys, linked, updated_ms)
        VALUES (9, '${T2}', 2000, 2500, 2, '["arda"]', '{"circuit_id":"${CIRCUIT}"}', '[]', 2600);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  const [state] = store.loadTraces([T2]);
  assert.deepEqual([state?.spanCount, state?.keys, state?.moreKeys], [2, { circuit_id: CIRCUIT }, []]);
  // The new column is written from now on.
  store.db.prepare(`UPDATE traces SET more_keys = '["circuit_id","other"]' WHERE id = 9`).run();
  assert.deepEqual(store.loadTraces([T2])[0]?.moreKeys, ['circuit_id', 'other']);
});

/** A schema 5 directory with logs of no trace (and one of a trace), each naming the key values given. */
async function v5DirectoryWithLogs(t: TestContext): Promise<string> {
  const ddl = await readFile(new URL('./fixtures/schema-v5.sql', import.meta.url), 'utf8');
  const log = (dedupe: string, timeMs: number, traceId: string, keys: object) =>
    `INSERT INTO logs (dedupe, time_ms, time_unix_nano, severity_number, severity_text, body, service, trace_id, span_id,
       circuit_id, keys, attributes, resource_id, source, received_ms)
     VALUES ('${dedupe}', ${timeMs}, '0', 9, 'INFO', 'step', 'bpocore', '${traceId}', '', NULL, '${JSON.stringify(keys)}', '{}', 1, 'otlp', ${timeMs});`;
  return dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '5');
      ${log('d1', 1000, '', { circuit_id: CIRCUIT, resource_id: 'r-1', product_id: 'P-1' })}
      ${log('d2', 1500, '', { circuit_id: CIRCUIT })}
      ${log('d3', 1200, T1, { circuit_id: CIRCUIT })}
      ${log('d4', 1300, '', {})}`);
  });
}

test('a schema 5 data directory indexes its logs of no trace by their key values', async t => {
  const dir = await v5DirectoryWithLogs(t);
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  // The log of trace T1 is its trace's member, not one of no trace.
  assert.deepEqual(store.looseLogs('circuit_id', CIRCUIT, 0, 2000), { count: 2, firstMs: 1000, lastMs: 1500, services: ['bpocore'] });
  assert.deepEqual(store.looseLogs('resource_id', 'r-1', 0, 2000)?.count, 1);
  // An episode of them alone is read back as a group of their logs, to which a trace can come.
  const g = store.loadGroup('circuit_id', CIRCUIT, 0, 2000, 10);
  assert.deepEqual([g?.traceIds, g?.looseLogs, g?.logCount, g?.firstMs, g?.lastMs, g?.services], [[], 2, 2, 1000, 1500, ['bpocore']]);
  // product_id does not correlate by default: ingest would not index it either.
  assert.equal(store.looseLogs('product_id', 'P-1', 0, 2000), null);
});

test("the schema 5 upgrade indexes logs of no trace by the configuration's correlating keys only, as ingest does", async t => {
  const dir = await v5DirectoryWithLogs(t);
  const store = new SqliteStore({ dataDir: dir, exportBridges: null, correlatingKeys: ['circuit_id', 'product_id'] });
  testCleanup(t)(() => store.close());
  assert.equal(store.looseLogs('circuit_id', CIRCUIT, 0, 2000)?.count, 2);
  assert.equal(store.looseLogs('product_id', 'P-1', 0, 2000)?.count, 1);
  assert.equal(store.looseLogs('resource_id', 'r-1', 0, 2000), null);
  assert.deepEqual(
    store.db.prepare('SELECT DISTINCT key FROM loose_logs ORDER BY key').pluck().all(),
    ['circuit_id', 'product_id'],
  );
});

test('a schema 6 data directory keeps its bridges, and takes a row per circuit for a hop two circuits plan', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v6.sql', import.meta.url), 'utf8');
  const bridge = (value: string) =>
    `INSERT INTO bridges (span_id, trace_id, parent_span_id, parent_service, parent_start_ms, child_trace_id, child_span_id,
       child_service, child_start_ms, key, value, method, confidence, created_ms, resource_id, parent_ref, child_ref)
     VALUES ('${'4'.repeat(16)}', '${T1}', '${'1'.repeat(16)}', 'beorn', 1000, '${T2}', '${'2'.repeat(16)}', 'arda', 2000,
       'circuit_id', '${value}', 'circuit_id_match', 0.9, 2600, 0, 1, 2);`;
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '6');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, services, keys, linked, updated_ms) VALUES (1, '${T1}', 1000, 1500, '["beorn"]', '{}', '[]', 2600);
      INSERT INTO traces (id, trace_id, first_ms, last_ms, services, keys, linked, updated_ms) VALUES (2, '${T2}', 2000, 2500, '["arda"]', '{}', '[]', 2600);
      ${bridge(CIRCUIT)}`);
    // One row per hop was the rule.
    assert.throws(() => db.exec(bridge('OTHER')), /UNIQUE/);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  store.db.exec(bridge('OTHER'));
  assert.deepEqual((await store.bridgesOf({ circuitId: CIRCUIT })).map(b => b.childTraceId), [T2]);
  assert.deepEqual((await store.bridgesOf({ circuitId: 'OTHER' })).map(b => b.childTraceId), [T2]);
  assert.equal((await store.bridgesOf({ traceId: T1 })).length, 1);
  assert.throws(() => store.db.exec(bridge('OTHER')), /UNIQUE/);
});

test('a schema 7 data directory lists the traces its full episodes refused, and takes such traces apart from then on', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v7.sql', import.meta.url), 'utf8');
  const T4 = '4'.repeat(32);
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    const trace = (id: number, traceId: string, firstMs: number, keys: object, more: string[] = []) =>
      `INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, services, keys, more_keys, linked, updated_ms)
       VALUES (${id}, '${traceId}', ${firstMs}, ${firstMs + 500}, 1, '["beorn"]', '${JSON.stringify(keys)}', '${JSON.stringify(more)}', '[]', 2600);`;
    // T1 a member; T2 and T3 (which names the circuit second) refused by a full episode, which
    // wrote them no membership row; T4 names another circuit only.
    db.exec(`INSERT INTO meta VALUES ('schema_version', '7');
      ${trace(1, T1, 1000, { circuit_id: CIRCUIT })}
      ${trace(2, T2, 900, { circuit_id: CIRCUIT })}
      ${trace(3, T3, 1100, { circuit_id: 'OTHER' }, ['circuit_id', CIRCUIT])}
      ${trace(4, T4, 1200, { circuit_id: 'OTHER' })}
      INSERT INTO trace_keys VALUES ('circuit_id', '${CIRCUIT}', '${T1}', 1000, 1500);
      INSERT INTO trace_keys VALUES ('circuit_id', 'OTHER', '${T3}', 1100, 1600);
      INSERT INTO trace_keys VALUES ('circuit_id', 'OTHER', '${T4}', 1200, 1700);
      INSERT INTO circuits (circuit_id, first_ms, last_ms, trace_count, span_count, services, keys, updated_ms)
        VALUES ('${CIRCUIT}', 900, 1600, 1, 3, '["beorn"]', '{}', 2600), ('OTHER', 1100, 1700, 2, 2, '["beorn"]', '{}', 2600);`);
    assert.throws(() => db.exec('SELECT 1 FROM refused_traces'), /no such table/);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(await store.circuitTraceIds(CIRCUIT), [T2, T1, T3], 'listed with the members, by first datum');
  assert.deepEqual([(await store.getCircuit(CIRCUIT))?.traceCount, (await store.getCircuit('OTHER'))?.traceCount], [3, 2]);
  assert.deepEqual(await store.circuitTraceIds(CIRCUIT, { fromMs: 1550 }), [T3]);
  assert.deepEqual(
    [T1, T2, T3, T4].map(id => store.membershipOf('circuit_id', CIRCUIT, id)),
    ['member', 'refused', 'refused', null],
  );
  // Never read back as a member.
  assert.deepEqual(store.loadGroup('circuit_id', CIRCUIT, 0, 3000, 10)?.traceIds, [T1]);
});

test('a schema 8 data directory keeps its spans\' bytes in their rows, and new spans go to segment files', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v8.sql', import.meta.url), 'utf8');
  const { meta, body } = encodeSpanChunk([
    { spanId: '0000000000000002', parentSpanId: '', startMs: 2000, endMs: 2500, kind: 2, statusCode: 0, resourceId: 2, bytes: Buffer.from([3]) },
  ]);
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '8');
      INSERT INTO resources (id, hash, service, scope_name, scope_version, body) VALUES (2, 'h2', 'arda', '', '', x'0a00');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, services, keys, linked, updated_ms)
        VALUES (9, '${T2}', 2000, 2500, 1, '["arda"]', '{}', '[]', 2600);`);
    db.prepare('INSERT INTO span_chunks (id, trace_id, trace_ref, received_ms, span_count, meta, body) VALUES (1, ?, 9, 2600, 1, ?, ?)').run(T2, meta, body);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  const [beorn] = await buildTraces([{ service: 'beorn', spans: [{ name: 'create', startMs: 3000, endMs: 3100 }] }]);
  const fresh = decodeTraceRequest(tracesProtobuf(beorn!.spans), keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }))).spans;
  await store.ingestSpans(fresh, () => emptyDerivedWrites(), 3000);
  assert.deepEqual(store.db.prepare('SELECT id, length(body), body_segment FROM span_chunks ORDER BY id').raw().all(), [
    [1, 1, 0],
    [2, 0, 1],
  ]);
  // One read takes bytes from a row and from a segment file.
  const { spans } = await store.spansOfTraces([fresh[0]!.traceId, T2], 10);
  assert.deepEqual(
    spans.map(s => [s.spanId, Buffer.from(s.body).toString('hex')]),
    [
      ['0000000000000002', '03'],
      [fresh[0]!.spanId, Buffer.from(fresh[0]!.bytes).toString('hex')],
    ],
  );
});

test("a schema 9 data directory gives its traces with spans the extent of all their data, and a trace of logs alone none", async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v9.sql', import.meta.url), 'utf8');
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '9');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, log_count, services, keys, linked, updated_ms)
        VALUES (1, '${T1}', 1000, 9000, 2, 1, '["beorn"]', '{}', '[]', 9000),
               (2, '${T2}', 4000, 4000, 0, 1, '["arda"]', '{}', '[]', 4000);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  // Which of a stored trace's times were its spans' is in their chunks, out of SQL's reach.
  const summaries = await store.traceSummaries([T1, T2]);
  assert.deepEqual(
    summaries.map(s => [s.traceId, s.startTimeMs, s.endTimeMs, s.durationMs]),
    [
      [T1, 1000, 9000, 8000],
      [T2, 4000, 4000, 0],
    ],
  );
  assert.deepEqual(store.db.prepare('SELECT span_first_ms, span_last_ms FROM traces ORDER BY id').raw().all(), [
    [1000, 9000],
    [null, null],
  ]);
});

test('a schema 10 data directory lists the services of its traces by the hours they span', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v10.sql', import.meta.url), 'utf8');
  const H = 3_600_000;
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '10');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, log_count, services, keys, linked, updated_ms)
        VALUES (1, '${T1}', ${H + 10}, ${H + 20}, 2, 0, '["beorn"]', '{}', '[]', 0),
               (2, '${T2}', ${3 * H - 5}, ${4 * H + 5}, 1, 1, '["arda","mdso"]', '{}', '[]', 0),
               (3, '${T3}', ${5 * H}, ${5 * H}, 0, 0, '[]', '{}', '[]', 0);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(await store.services({}), ['arda', 'beorn', 'mdso']);
  assert.deepEqual(await store.services({ fromMs: H, toMs: 2 * H - 1 }), ['beorn']);
  assert.deepEqual(await store.services({ fromMs: 4 * H + 10, toMs: 4 * H + 20 }), ['arda', 'mdso']);
  assert.deepEqual(await store.services({ fromMs: 5 * H, toMs: 6 * H }), []);
});

test("a schema 11 data directory keeps its traces' error counts, its ERROR lines of before counted nowhere, and counts those of after", async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v11.sql', import.meta.url), 'utf8');
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    // T1 failed; T2's spans all succeeded, and it logged an ERROR line, which schema 11 counted nowhere.
    db.exec(`INSERT INTO meta VALUES ('schema_version', '11');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, error_count, log_count, services, keys, linked, updated_ms)
        VALUES (1, '${T1}', 1000, 1500, 2, 1, 0, '["mdso"]', '{"circuit_id":"${CIRCUIT}"}', '[]', 1500),
               (2, '${T2}', 2000, 2500, 1, 0, 1, '["flask"]', '{"circuit_id":"${CIRCUIT}"}', '[]', 2500);
      INSERT INTO logs (dedupe, time_ms, time_unix_nano, severity_number, severity_text, body, service, trace_id, span_id,
         circuit_id, keys, attributes, resource_id, source, received_ms)
       VALUES ('d1', 2100, '0', 17, 'ERROR', 'device refused the change', 'flask', '${T2}', '', NULL, '{}', '{}', 1, 'otlp', 2100);
      INSERT INTO trace_keys VALUES ('circuit_id', '${CIRCUIT}', '${T1}', 1000, 1500), ('circuit_id', '${CIRCUIT}', '${T2}', 2000, 2500);
      INSERT INTO circuits (circuit_id, first_ms, last_ms, trace_count, span_count, error_count, log_count, services, keys, updated_ms)
        VALUES ('${CIRCUIT}', 1000, 2500, 2, 3, 1, 1, '["mdso","flask"]', '{}', 2500);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION), 'upgraded');
  assert.deepEqual(
    store.loadTraces([T1, T2]).map(s => [s.traceId, s.errorCount, s.errorLogCount]),
    [
      [T1, 1, 0],
      [T2, 0, 0],
    ],
    'the error spans are kept, and the ERROR lines of before are not counted, as their circuit did not count them',
  );
  assert.deepEqual(
    (await store.traceSummaries([T1, T2])).map(s => [s.traceId, s.errorCount]),
    [
      [T1, 1],
      [T2, 0],
    ],
    "the traces' summaries",
  );
  assert.equal((await store.getCircuit(CIRCUIT))?.errorCount, 1, "the circuit's count is as it was");
  // The new column is written from now on, and a trace whose spans all succeeded counts its lines.
  store.db.prepare('UPDATE traces SET error_log_count = 2 WHERE id = 2').run();
  assert.deepEqual(
    store.loadTraces([T2]).map(s => [s.errorCount, s.errorLogCount]),
    [[0, 2]],
    'read back into hot state',
  );
  assert.deepEqual(
    (await store.traceSummaries([T2])).map(s => s.errorCount),
    [2],
    "the trace's summary counts its lines",
  );
});

test("a schema 12 data directory indexes its circuits' trace rows by first datum and its error traces by end time, and lists a circuit's most recent traces", async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v12.sql', import.meta.url), 'utf8');
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    // T2 a member, T1 and T3 refused by a full episode.
    db.exec(`INSERT INTO meta VALUES ('schema_version', '12');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, span_count, services, keys, linked, updated_ms)
        VALUES (1, '${T1}', 1000, 1100, 1, '["beorn"]', '{}', '[]', 1100), (2, '${T2}', 2000, 2100, 1, '["beorn"]', '{}', '[]', 2100),
               (3, '${T3}', 3000, 3100, 1, '["beorn"]', '{}', '[]', 3100);
      INSERT INTO trace_keys VALUES ('circuit_id', '${CIRCUIT}', '${T2}', 2000, 2100);
      INSERT INTO refused_traces VALUES ('circuit_id', '${CIRCUIT}', '${T1}', 1000, 1100), ('circuit_id', '${CIRCUIT}', '${T3}', 3000, 3100);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(
    store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND (name LIKE '%_circuit_first' OR name = 'traces_errors_last') ORDER BY name`).pluck().all(),
    ['refused_traces_circuit_first', 'trace_keys_circuit_first', 'traces_errors_last'],
  );
  assert.deepEqual(await store.recentCircuitTraceIds(CIRCUIT, {}, 2), { traceIds: [T2, T3], truncated: true });
  assert.deepEqual(await store.recentCircuitTraceIds(CIRCUIT, { toMs: 2050 }, 2), { traceIds: [T1, T2], truncated: false });
});

test("a schema 13 data directory gets the table of logs' further circuits, empty: its logs stay listed under their own circuit", async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v13.sql', import.meta.url), 'utf8');
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '13');
      INSERT INTO logs (dedupe, time_ms, time_unix_nano, severity_number, severity_text, body, service, trace_id, span_id,
         circuit_id, keys, attributes, resource_id, source, received_ms)
       VALUES ('d1', 2100, '2100000000', 17, 'ERROR', 'bulk activation failed', 'beorn', '', '', '${CIRCUIT}',
         '{"circuit_id":"${CIRCUIT}"}', '{"circuit_id":["${CIRCUIT}","OTHER"]}', 1, 'otlp', 2100);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(store.db.prepare(`SELECT name FROM sqlite_master WHERE tbl_name = 'log_circuits' ORDER BY name`).pluck().all(), ['log_circuits', 'log_circuits_circuit']);
  assert.deepEqual((await store.logs({ circuit_id: CIRCUIT, limit: 10 })).map(l => l.body), ['bulk activation failed']);
  assert.deepEqual(await store.logs({ circuit_id: 'OTHER', limit: 10 }), [], 'a log stored before names its first circuit only');
});

test("a schema 13 data directory's service hours are judged by their hour's end, as they were before", async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v13.sql', import.meta.url), 'utf8');
  const HOUR = 3_600_000;
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '13'); INSERT INTO service_hours (hour_ms, service) VALUES (${HOUR}, 'beorn');`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(store.db.prepare('SELECT hour_ms, service, last_ms FROM service_hours').all(), [{ hour_ms: HOUR, service: 'beorn', last_ms: 2 * HOUR - 1 }]);
  assert.deepEqual(await store.services({ fromMs: 2 * HOUR - 1, toMs: 3 * HOUR }), ['beorn'], 'its hour still holds its last minute');
});

// Version 16 indexed the members by last datum (trace_keys_span, as refused_traces_span); version
// 17 replaced both by covering ones (trace_keys_near, refused_traces_near).
for (const version of [15, 16])
  test(`a schema ${version} data directory gets the covering indexes of rows by last datum, and finds the same traces near a time`, async t => {
    const ddl = await readFile(new URL(`./fixtures/schema-v${version}.sql`, import.meta.url), 'utf8');
    const dir = await dataDirWith(t, db => {
      db.exec(ddl);
      db.exec(`INSERT INTO meta VALUES ('schema_version', '${version}');
        INSERT INTO trace_keys VALUES ('circuit_id', '${CIRCUIT}', '${T1}', 1000, 1100), ('circuit_id', '${CIRCUIT}', '${T2}', 2000, 2100);
        INSERT INTO refused_traces VALUES ('circuit_id', '${CIRCUIT}', '${T3}', 3000, 3100);`);
    });
    const store = open(dir);
    testCleanup(t)(() => store.close());
    assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
    const indexes = store.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND (name GLOB 'trace_keys_*' OR name GLOB 'refused_traces_*') ORDER BY name`)
      .pluck()
      .all();
    assert.ok(indexes.includes('trace_keys_near') && indexes.includes('refused_traces_near'), String(indexes));
    assert.ok(!indexes.includes('trace_keys_span') && !indexes.includes('refused_traces_span'), `the indexes they replace are gone: ${String(indexes)}`);
    assert.deepEqual(store.tracesNear('circuit_id', CIRCUIT, 2050, 3050, 10).sort(), [T2, T3].sort());
  });

// Version 18 keeps what a bridge hangs from (bridges.basis): a row stored before has none, and is
// served as 'unknown', its span without a bridge.basis attribute, until its group plans it again
// (the row then gets one; Tempo's copy, sent before, is not sent again).
test('a schema 17 data directory gets the bridges basis column, its rows served as unknown', async t => {
  const ddl = await readFile(new URL('./fixtures/schema-v17.sql', import.meta.url), 'utf8');
  const dir = await dataDirWith(t, db => {
    db.exec(ddl);
    db.exec(`INSERT INTO meta VALUES ('schema_version', '17');
      INSERT INTO traces (id, trace_id, first_ms, last_ms, services, keys, linked, updated_ms) VALUES
        (1, '${T1}', 1000, 1500, '["beorn"]', '{"circuit_id":"${CIRCUIT}"}', '[]', 1600),
        (2, '${T2}', 2000, 2500, '["arda"]', '{"circuit_id":"${CIRCUIT}"}', '[]', 2600);
      INSERT INTO bridges (span_id, trace_id, parent_span_id, parent_service, parent_start_ms, child_trace_id, child_span_id,
        child_service, child_start_ms, key, value, method, confidence, created_ms, resource_id, parent_ref, child_ref)
        VALUES ('1111111111111111', '${T1}', '0000000000000001', 'beorn', 1000, '${T2}', '0000000000000002', 'arda', 2000,
          'circuit_id', '${CIRCUIT}', 'circuit_id_match', 0.95, 2600, 0, 1, 2);`);
  });
  const store = open(dir);
  testCleanup(t)(() => store.close());
  assert.equal(store.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SCHEMA_VERSION));
  assert.deepEqual(
    (await store.bridgesOf({ circuitId: CIRCUIT })).map(b => [b.spanId, b.basis]),
    [['1111111111111111', 'unknown']],
  );
  assert.deepEqual(store.bridgesInto('circuit_id', CIRCUIT, [T2]).map(b => b.basis), ['unknown']);
});
