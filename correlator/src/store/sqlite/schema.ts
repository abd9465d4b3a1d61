import type Database from 'better-sqlite3';
import { circuitTraceRows } from './circuit-traces.js';
import { encodeSpanChunk } from './span-chunk.js';
import { SERVICE_HOUR_MS, ServiceHourSet } from '../service-hours.js';
import { noRoom } from '../write-failure.js';
import { markSummariesRepaired } from './summary-repair.js';

export const SCHEMA_VERSION = 18;

// Received spans are kept in span_chunks, one row per trace per request (span-chunk.ts): a
// fixed-size record of the fields queries read, and where their OTLP bytes as received are: in a
// segment file (body_segment > 0, span-body-files.ts) or, before version 9 and in memory, in body.
// A bridge span is its bridges row: its OTLP bytes are made from the row when read
// (bridge-span.ts). Counts on traces and circuits are maintained incrementally in the same
// transaction as the spans, which is why span insertion de-duplicates first: only fresh spans
// move counters.
const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL,
  scope_name TEXT NOT NULL,
  scope_version TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS span_chunks (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  received_ms REAL NOT NULL,
  span_count INTEGER NOT NULL,
  meta BLOB NOT NULL,
  body BLOB NOT NULL,
  trace_ref INTEGER NOT NULL DEFAULT 0,
  body_segment INTEGER NOT NULL DEFAULT 0,
  body_offset INTEGER NOT NULL DEFAULT 0,
  body_length INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS span_chunks_received ON span_chunks(received_ms);
CREATE TABLE IF NOT EXISTS traces (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL UNIQUE,
  first_ms REAL NOT NULL,
  last_ms REAL NOT NULL,
  span_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  error_log_count INTEGER NOT NULL DEFAULT 0,
  log_count INTEGER NOT NULL DEFAULT 0,
  services TEXT NOT NULL,
  entry TEXT,
  keys TEXT NOT NULL,
  more_keys TEXT NOT NULL DEFAULT '[]',
  linked TEXT NOT NULL,
  updated_ms REAL NOT NULL,
  span_first_ms REAL,
  span_last_ms REAL
);
CREATE INDEX IF NOT EXISTS traces_last ON traces(last_ms);
CREATE INDEX IF NOT EXISTS traces_errors_last ON traces(last_ms) WHERE error_count > 0 OR error_log_count > 0;
CREATE TABLE IF NOT EXISTS trace_keys (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  first_ms REAL NOT NULL,
  last_ms REAL NOT NULL,
  PRIMARY KEY (key, value, trace_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refused_traces (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  first_ms REAL NOT NULL,
  last_ms REAL NOT NULL,
  PRIMARY KEY (key, value, trace_id)
) WITHOUT ROWID;
-- The rows near a time of a key value (circuit-traces.ts, KEY_VALUE_TRACES_NEAR), for a circuit
-- past MAX_TRACES_PER_CIRCUIT each batch: holding first_ms too (version 17), they answer from the
-- index alone, where versions 8 (refused) and 16 (members) looked up each row's first datum.
CREATE INDEX IF NOT EXISTS refused_traces_near ON refused_traces(key, value, last_ms, first_ms);
CREATE INDEX IF NOT EXISTS trace_keys_near ON trace_keys(key, value, last_ms, first_ms);
CREATE INDEX IF NOT EXISTS trace_keys_circuit_first ON trace_keys(value, first_ms, trace_id) WHERE key = 'circuit_id';
CREATE INDEX IF NOT EXISTS refused_traces_circuit_first ON refused_traces(value, first_ms, trace_id) WHERE key = 'circuit_id';
CREATE TABLE IF NOT EXISTS circuits (
  id INTEGER PRIMARY KEY,
  circuit_id TEXT NOT NULL UNIQUE,
  first_ms REAL NOT NULL,
  last_ms REAL NOT NULL,
  trace_count INTEGER NOT NULL DEFAULT 0,
  span_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  log_count INTEGER NOT NULL DEFAULT 0,
  bridge_count INTEGER NOT NULL DEFAULT 0,
  services TEXT NOT NULL,
  keys TEXT NOT NULL,
  updated_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS circuits_last ON circuits(last_ms);
CREATE TABLE IF NOT EXISTS correlations (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  confidence REAL NOT NULL,
  first_ms REAL NOT NULL,
  last_ms REAL NOT NULL,
  trace_ids TEXT NOT NULL,
  services TEXT NOT NULL,
  span_count INTEGER NOT NULL,
  log_count INTEGER NOT NULL,
  created_ms REAL NOT NULL,
  updated_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS correlations_value ON correlations(key, value, last_ms);
CREATE INDEX IF NOT EXISTS correlations_last ON correlations(last_ms);
CREATE TABLE IF NOT EXISTS bridges (
  id INTEGER PRIMARY KEY,
  span_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  parent_service TEXT NOT NULL,
  parent_start_ms REAL NOT NULL,
  child_trace_id TEXT NOT NULL,
  child_span_id TEXT NOT NULL,
  child_service TEXT NOT NULL,
  child_start_ms REAL NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  method TEXT NOT NULL,
  confidence REAL NOT NULL,
  created_ms REAL NOT NULL,
  resource_id INTEGER NOT NULL DEFAULT 0,
  -- What of the parent trace the bridge hangs from (version 18; '' before: unknown).
  basis TEXT NOT NULL DEFAULT '',
  parent_ref INTEGER NOT NULL DEFAULT 0,
  child_ref INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS bridges_value ON bridges(key, value);
CREATE TABLE IF NOT EXISTS links (
  source_trace_id TEXT NOT NULL,
  source_span_id TEXT NOT NULL,
  target_trace_id TEXT NOT NULL,
  target_span_id TEXT NOT NULL,
  origin TEXT NOT NULL,
  PRIMARY KEY (source_trace_id, source_span_id, target_trace_id, target_span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_target ON links(target_trace_id);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY,
  dedupe TEXT NOT NULL UNIQUE,
  time_ms REAL NOT NULL,
  time_unix_nano TEXT NOT NULL,
  severity_number INTEGER NOT NULL,
  severity_text TEXT NOT NULL,
  body TEXT NOT NULL,
  service TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  circuit_id TEXT,
  keys TEXT NOT NULL,
  attributes TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  source TEXT NOT NULL,
  received_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_trace ON logs(trace_id) WHERE trace_id != '';
CREATE INDEX IF NOT EXISTS logs_circuit ON logs(circuit_id, time_ms) WHERE circuit_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS logs_time ON logs(time_ms);
CREATE TABLE IF NOT EXISTS log_circuits (
  log_id INTEGER NOT NULL,
  circuit_id TEXT NOT NULL,
  time_ms REAL NOT NULL,
  PRIMARY KEY (log_id, circuit_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_circuits_circuit ON log_circuits(circuit_id, time_ms);
CREATE TABLE IF NOT EXISTS loose_logs (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  time_ms REAL NOT NULL,
  service TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS loose_logs_value ON loose_logs(key, value, time_ms);
CREATE INDEX IF NOT EXISTS loose_logs_time ON loose_logs(time_ms);
CREATE TABLE IF NOT EXISTS export_queue (
  id INTEGER PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,
  due_ms REAL NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS export_queue_due ON export_queue(due_ms);
CREATE TABLE IF NOT EXISTS service_hours (
  hour_ms INTEGER NOT NULL,
  service TEXT NOT NULL,
  -- The last datum of the traces that marked it (version 15, service-hours.ts).
  last_ms REAL NOT NULL,
  PRIMARY KEY (hour_ms, service)
) WITHOUT ROWID;
`;

// Version 8 keeps the traces that name a key value whose correlation was full
// (MAX_TRACES_PER_CIRCUIT) in refused_traces: the circuit lists them, while trace_keys, which
// correlation reads back episodes from, holds members only. Earlier versions wrote such a trace no
// row at all, so a circuit did not list it: the upgrade finds the traces that name a circuit
// without a membership row for it and files them as refused (keepRefusedTraces).

// Created after an upgrade has filled the columns they index (version 4).
const TRACE_REF_INDEXES = `
CREATE INDEX IF NOT EXISTS span_chunks_trace_ref ON span_chunks(trace_ref);
CREATE INDEX IF NOT EXISTS span_chunks_segment ON span_chunks(body_segment) WHERE body_segment > 0;
CREATE UNIQUE INDEX IF NOT EXISTS bridges_hop_group ON bridges(parent_ref, span_id, key, value);
CREATE INDEX IF NOT EXISTS bridges_child_ref ON bridges(child_ref);
`;

// Version 2 gave the tables with wide rows (traces, circuits, correlations, bridges) a rowid and a
// UNIQUE text key instead of a WITHOUT ROWID text primary key: wide rows clustered on random ids
// made every upsert rewrite a random, densely packed page, and the commits of those pages were most
// of the ingest cost. It also dropped an index nothing read (trace_keys by trace) and the link rows
// of bridges, which the bridge rows already describe, and moved received spans from a row each
// into span_chunks (one row per trace: an upgrade cannot tell which request brought which span).
const REBUILT_IN_V2 = ['traces', 'circuits', 'correlations', 'bridges'] as const;

// Version 3 dropped the spans table, where each bridge's span was a second row under a second
// index keyed by random ids, written with every bridge: a fifth of the pages an ingest request
// dirtied went to bridges. The bridge row has every field of its span; encodeBridgeSpan makes the
// same bytes from it when a view or the exporter reads it, and the row keeps the span's resource.
// Bridges are found by trace and span id together, so one unique index on both replaced the
// unique span id and the trace index (the table is rebuilt to drop its UNIQUE column).
const REBUILT_IN_V3 = ['bridges'] as const;

// Version 4 finds a trace's chunks and bridges by its traces row id (trace_ref, parent_ref and
// child_ref) instead of by its trace id. An index on random trace ids took a page of its own for
// nearly every trace or bridge a request brought: of the 427 pages a request of 512 spans wrote to
// the WAL, 52 went to the chunks' trace index and 90 to the bridges' two. Trace rows are numbered
// as traces arrive and a bridge joins recent traces, so the new indexes grow at their end and a
// request touches a few of their pages. Every chunk and bridge now has its traces' rows, and
// retention deletes a trace's chunks with its row.
function addTraceRefColumns(db: Database.Database, version: number): void {
  db.exec('ALTER TABLE span_chunks ADD COLUMN trace_ref INTEGER NOT NULL DEFAULT 0');
  // Before version 3 the bridges table is rebuilt by the DDL, with the columns.
  if (version === 3) {
    db.exec(`ALTER TABLE bridges ADD COLUMN parent_ref INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE bridges ADD COLUMN child_ref INTEGER NOT NULL DEFAULT 0;`);
  }
}

function linkToTraceRows(db: Database.Database): void {
  db.exec(`
    DROP INDEX IF EXISTS span_chunks_trace;
    DROP INDEX IF EXISTS bridges_child;
    DROP INDEX IF EXISTS bridges_trace_span;
    -- Chunks whose trace row retention already deleted: no query can reach them any more.
    DELETE FROM span_chunks WHERE trace_id NOT IN (SELECT trace_id FROM traces);
    UPDATE span_chunks SET trace_ref = (SELECT id FROM traces WHERE traces.trace_id = span_chunks.trace_id);
    -- A bridge span belongs to its parent trace's view, so that trace gets a row if retention
    -- deleted it; a bridge whose child trace's row is gone is found from its parent and circuit.
    INSERT OR IGNORE INTO traces (trace_id, first_ms, last_ms, services, keys, linked, updated_ms)
      SELECT trace_id, min(parent_start_ms), max(child_start_ms), '[]', '{}', '[]', max(created_ms)
      FROM bridges GROUP BY trace_id;
    UPDATE bridges SET
      parent_ref = coalesce((SELECT id FROM traces WHERE traces.trace_id = bridges.trace_id), 0),
      child_ref = coalesce((SELECT id FROM traces WHERE traces.trace_id = bridges.child_trace_id), 0);
  `);
}

function moveBridgeSpansIntoBridges(db: Database.Database): void {
  db.exec(`
    UPDATE bridges SET resource_id = coalesce(
      (SELECT resource_id FROM spans WHERE spans.trace_id = bridges.trace_id AND spans.span_id = bridges.span_id), 0);
    DROP TABLE spans;
  `);
}

// Version 7 keeps a bridge row per hop and key group: two circuits whose traces are the same two
// traces plan the same hop (the same bridge span id). With one row per hop, only one circuit could
// list it, and which one depended on arrival order. Readers that want each bridge span once take
// one row per hop (rows.ts, oneRowPerHop).
function indexBridgesByGroup(db: Database.Database): void {
  db.exec('DROP INDEX IF EXISTS bridges_parent_span');
}

// Version 6 indexes the logs of no trace by their key values (loose_logs): an episode made of
// such logs was kept only in hot state, so a restart or an eviction lost it as a member. Older
// directories index the ones they hold by the keys that correlate, as ingest does from then on: a
// key that starts to correlate later finds neither the logs of before nor those of after.
function indexLooseLogs(db: Database.Database, correlatingKeys: readonly string[]): void {
  db.prepare(
    `INSERT INTO loose_logs (key, value, time_ms, service)
      SELECT k.key, k.value, logs.time_ms, logs.service FROM logs, json_each(logs.keys) AS k
      WHERE logs.trace_id = '' AND k.type = 'text' AND k.key IN (SELECT value FROM json_each(?))`,
  ).run(JSON.stringify(correlatingKeys));
}

function readVersion(db: Database.Database): number | null {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!hasMeta) return null;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
  return row ? Number(row.value) : null;
}

/** Renames tables the DDL is about to create anew, without their indexes, whose names it reuses. */
function moveTablesAside(db: Database.Database, tables: readonly string[], suffix: string): void {
  for (const table of tables) {
    const indexes = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`)
      .pluck()
      .all(table) as string[];
    for (const index of indexes) db.exec(`DROP INDEX ${index}`);
    db.exec(`ALTER TABLE ${table} RENAME TO ${table}_${suffix}`);
  }
}

/** Copies the rows of tables moved aside into the new ones, column by column of the old. */
function copyTablesBack(db: Database.Database, tables: readonly string[], suffix: string): void {
  for (const table of tables) {
    const columns = (db.prepare(`PRAGMA table_info(${table}_${suffix})`).all() as { name: string }[]).map(c => c.name).join(', ');
    db.exec(`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${table}_${suffix}; DROP TABLE ${table}_${suffix};`);
  }
}

function moveV1TablesAside(db: Database.Database): void {
  moveTablesAside(db, REBUILT_IN_V2, 'v1');
  db.exec('DROP INDEX IF EXISTS trace_keys_trace');
}

function copyV1Tables(db: Database.Database): void {
  copyTablesBack(db, REBUILT_IN_V2, 'v1');
  db.exec(`DELETE FROM links WHERE origin = 'bridge'`);
  chunkV1Spans(db);
}

function chunkV1Spans(db: Database.Database): void {
  const insert = db.prepare('INSERT INTO span_chunks (trace_id, received_ms, span_count, meta, body) VALUES (?, ?, ?, ?, ?)');
  const spansOf = db.prepare(
    `SELECT span_id, parent_span_id, kind, start_ms, end_ms, status_code, resource_id, body, received_ms
     FROM spans WHERE trace_id = ? AND synthetic = 0 ORDER BY id`,
  );
  // One trace at a time: a statement cannot run while another one's rows are being iterated.
  const traceIds = db.prepare('SELECT DISTINCT trace_id FROM spans WHERE synthetic = 0').pluck().all() as string[];
  for (const traceId of traceIds) {
    const rows = spansOf.all(traceId) as {
      span_id: string;
      parent_span_id: string;
      kind: number;
      start_ms: number;
      end_ms: number;
      status_code: number;
      resource_id: number;
      body: Buffer;
      received_ms: number;
    }[];
    const { meta, body } = encodeSpanChunk(
      rows.map(r => ({
        spanId: r.span_id,
        parentSpanId: r.parent_span_id,
        startMs: r.start_ms,
        endMs: r.end_ms,
        kind: r.kind,
        statusCode: r.status_code,
        resourceId: r.resource_id,
        bytes: r.body,
      })),
    );
    insert.run(traceId, rows.reduce((m, r) => Math.max(m, r.received_ms), 0), rows.length, meta, body);
  }
  db.exec('DELETE FROM spans WHERE synthetic = 0');
}

/**
 * See version 8 above: each circuit a trace names, first or among its further keys, without a
 * membership row for it. In SQL, a pass over the trace rows that holds none of them in memory;
 * then the circuits it filed traces for count their traces again.
 */
function keepRefusedTraces(db: Database.Database): void {
  db.exec(`
    INSERT OR IGNORE INTO refused_traces (key, value, trace_id, first_ms, last_ms)
    SELECT 'circuit_id', n.circuit_id, n.trace_id, n.first_ms, n.last_ms FROM (
      SELECT trace_id, first_ms, last_ms, keys ->> '$.circuit_id' AS circuit_id FROM traces
      UNION
      SELECT t.trace_id, t.first_ms, t.last_ms, t.more_keys ->> (k.key + 1) FROM traces t, json_each(t.more_keys) k
        WHERE k.key % 2 = 0 AND k.value = 'circuit_id'
    ) n
    WHERE n.circuit_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM trace_keys m WHERE m.key = 'circuit_id' AND m.value = n.circuit_id AND m.trace_id = n.trace_id);
    UPDATE circuits SET trace_count = (SELECT count(*) FROM traces WHERE trace_id IN (${circuitTraceRows('circuits.circuit_id')}))
      WHERE circuit_id IN (SELECT value FROM refused_traces WHERE key = 'circuit_id');
  `);
}

// Version 10 keeps the extent of a trace's spans beside that of all its data (first_ms and last_ms
// take in its logs, which place it in episodes): its summary's start, end and duration are its
// spans', and a log an hour later no longer made a 100 ms trace an hour long. The spans' times are
// in their chunks' binary records, out of SQL's reach: a trace with spans stored before keeps the
// extent of all its data, which its later spans widen.
function addSpanExtentColumns(db: Database.Database): void {
  db.exec(`ALTER TABLE traces ADD COLUMN span_first_ms REAL;
    ALTER TABLE traces ADD COLUMN span_last_ms REAL;
    UPDATE traces SET span_first_ms = first_ms, span_last_ms = last_ms WHERE span_count > 0;`);
}

// Version 11 keeps which services had data in which hours (service-hours.ts), what the services
// of a time range are read from. The upgrade marks them from the trace rows as ingest does.
function fillServiceHours(db: Database.Database): void {
  const hours = new ServiceHourSet();
  for (const [firstMs, lastMs, services] of db.prepare('SELECT first_ms, last_ms, services FROM traces').raw().iterate() as IterableIterator<
    [number, number, string]
  >)
    hours.add(firstMs, lastMs, services);
  const mark = db.prepare('INSERT OR IGNORE INTO service_hours (hour_ms, service, last_ms) VALUES (?, ?, ?)');
  for (const [hour, service, lastMs] of hours.pairs()) mark.run(hour, service, lastMs);
}

// Version 15 keeps the last datum of the traces that marked an hour (service-hours.ts), which
// retention judges a pair by. The upgrade gives each pair its hour's end, by which the sweep
// judged it before.
function addServiceHourLastColumn(db: Database.Database): void {
  db.exec(`ALTER TABLE service_hours ADD COLUMN last_ms REAL NOT NULL DEFAULT 0;
    UPDATE service_hours SET last_ms = hour_ms + ${SERVICE_HOUR_MS} - 1;`);
}

// Version 12 keeps a trace's ERROR lines (error_log_count) beside its error spans (error_count):
// a trace whose spans all succeeded counts its ERROR lines as its errors (traceErrors), and which
// of the two a trace counts changes when its first error span comes after its lines. The upgrade
// leaves the new column at 0: the circuits of its traces did not count their lines either, and a
// count filled in here would be taken off them when an error span came (below 0 for some).
function addErrorLogColumn(db: Database.Database): void {
  db.exec('ALTER TABLE traces ADD COLUMN error_log_count INTEGER NOT NULL DEFAULT 0');
}

// Version 13 indexes a circuit's trace rows by first datum (trace_keys_circuit_first and
// refused_traces_circuit_first): a circuit's detail and stitched view read its most recent traces
// in order from them (circuit-traces.ts), where they read and sorted all of them to keep 1,000 of
// a circuit polled for days. Circuits only: the other keys' rows are not listed so, and their
// entries would be written with every trace for nothing. It also indexes the traces with errors by
// end time (traces_errors_last): a ranged circuit list with status= (sqlite-store.ts,
// listCircuitsIn) finds the circuits with an error in the range from the range's error traces,
// where it read every trace of the range for its error count, 220,000 for a day (340 ms). The DDL
// builds them on an older store.

// Version 14 keeps the further circuits of a log that names several (log_circuits, log-circuits.ts):
// its row's circuit_id holds one, so its other circuits counted it but neither listed nor recounted
// it. The DDL creates the table on an older store, empty: its logs of several circuits, written
// before, stay listed under their first, as they were.

// Version 9 keeps received spans' bytes in segment files (span-body-files.ts): body_segment,
// body_offset and body_length say where. Rows written before keep theirs in body (segment 0), and
// readers take either.
function addBodyPlaceColumns(db: Database.Database): void {
  db.exec(`ALTER TABLE span_chunks ADD COLUMN body_segment INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE span_chunks ADD COLUMN body_offset INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE span_chunks ADD COLUMN body_length INTEGER NOT NULL DEFAULT 0;`);
}

/** What an upgrade needs of the configuration. */
export interface MigrationOptions {
  /** The keys whose values form correlation groups (correlation and bridge keys). */
  correlatingKeys: readonly string[];
}

export function migrate(db: Database.Database, opts: MigrationOptions): void {
  const version = readVersion(db);
  if (version !== null && version > SCHEMA_VERSION) {
    throw new Error(`the data directory was written by a newer correlator (schema ${version}, this one knows ${SCHEMA_VERSION})`);
  }
  try {
    upgrade(db, version, opts);
  } catch (e) {
    throw noRoomToUpgrade(e, version) ?? e;
  }
}

/** One transaction: a migration that fails (a full disk) leaves the store as it was, never part-way. */
function upgrade(db: Database.Database, version: number | null, opts: MigrationOptions): void {
  db.transaction(() => {
    if (version === 1) moveV1TablesAside(db);
    if (version === 2) moveTablesAside(db, REBUILT_IN_V3, 'v2');
    if (version === 2 || version === 3) addTraceRefColumns(db, version);
    // Version 1 kept spans in a table of their own; span_chunks is created by the DDL below.
    if (version !== null && version >= 2 && version < 9) addBodyPlaceColumns(db);
    // Version 5 keeps a trace's further key values (a trace that names several circuits). Version
    // 1's traces table is created anew by the DDL below.
    if (version !== null && version >= 2 && version < 5) db.exec(`ALTER TABLE traces ADD COLUMN more_keys TEXT NOT NULL DEFAULT '[]'`);
    if (version !== null && version >= 2 && version < 10) addSpanExtentColumns(db);
    // Version 1's traces table is created anew by the DDL below, with the column.
    if (version !== null && version >= 2 && version < 12) addErrorLogColumn(db);
    if (version !== null && version >= 11 && version < 15) addServiceHourLastColumn(db);
    // Replaced by the covering *_near indexes of the DDL (version 17).
    if (version !== null && version < 17) db.exec('DROP INDEX IF EXISTS trace_keys_span; DROP INDEX IF EXISTS refused_traces_span;');
    // Version 1's and 2's bridges tables are created anew by the DDL below, with the column.
    if (version !== null && version >= 3 && version < 18) db.exec(`ALTER TABLE bridges ADD COLUMN basis TEXT NOT NULL DEFAULT ''`);
    db.exec(DDL);
    if (version === 1) copyV1Tables(db);
    if (version === 2) copyTablesBack(db, REBUILT_IN_V3, 'v2');
    if (version === 1 || version === 2) moveBridgeSpansIntoBridges(db);
    if (version !== null && version < 4) linkToTraceRows(db);
    if (version !== null && version < 6) indexLooseLogs(db, opts.correlatingKeys);
    if (version !== null && version < 7) indexBridgesByGroup(db);
    if (version !== null && version < 8) keepRefusedTraces(db);
    if (version !== null && version < 11) fillServiceHours(db);
    db.exec(TRACE_REF_INDEXES);
    // A new store was never swept by a correlator that left summaries counting deleted traces.
    if (version === null) markSummariesRepaired(db);
    // Not written again at the current version: a store that is already up to date is opened
    // without a write, so a full disk does not keep what it holds from being read.
    if (version !== SCHEMA_VERSION)
      db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
  })();
}

/** A store of an older schema on a full disk, said as such: it cannot be read until upgraded. */
function noRoomToUpgrade(e: unknown, version: number | null): Error | null {
  if (version === null || version === SCHEMA_VERSION || !noRoom(e)) return null;
  const failure = e as Error & { code: string };
  const why = `upgrading the store from schema ${version} to ${SCHEMA_VERSION} needs room on the disk; nothing was changed (${failure.message})`;
  return Object.assign(new Error(why, { cause: e }), { code: failure.code });
}
