import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  keyMatchMethod,
  type Bridge,
  type BusinessKeyName,
  type CircuitListQuery,
  type CircuitSummary,
  type Correlation,
  type LogEntry,
  type ServiceEdge,
  type ServiceGraph,
  type ServiceNode,
  type TraceLink,
  type TraceSummary,
} from '@correlation-station/api-schema';
import type { BridgePlan, KeyGroup, TraceState } from '../../correlation/types.js';
import type { LooseLogSpan, NearbyEpisodes, ThinnedEpisode, TimeSpan, TouchedState } from '../../correlation/engine.js';
import type { DecodedLog, DecodedResourceScope, DecodedSpan } from '../../otlp/decoded.js';
import { resourceAttributesOf } from '../resource-attributes.js';
import { logContentHash, logDedupeKey } from '../log-identity.js';
import { keyGroupsOf } from './key-groups-of.js';
import { DEFAULT_CORRELATING_KEYS } from '../../config/key-defaults.js';
import { correlationId } from '../../correlation/ids.js';
import { KEY_CONFIDENCE, SPAN_KIND_CLIENT, groupMapKey } from '../../correlation/types.js';
import { isKnownEnd } from '../../otlp/item-times.js';
import { otlpTypes } from '../../otlp/schema.js';
import { bridgeTraceKeys, type BridgeKeyValues } from '../../stitching/bridge-keys.js';
import { forEachKeyValue, traceKeyValuesOf, type TraceKeyValues } from '../trace-key-values.js';
import { BRIDGE_SCOPE_NAME, BRIDGE_SERVICE_NAME } from '../../stitching/bridge-identity.js';
import { encodeBridgeSpan, type GroupKey } from '../../stitching/bridge-span.js';
import type { DerivedWrites } from '../derived-writes.js';
import { SeenFilterKeeper, type SeenFilterStats } from '../seen-filter-keeper.js';
import type {
  BodyNeeded,
  Derive,
  ExportItem,
  IngestOutcome,
  ListedLog,
  LogPosition,
  PruneCounts,
  PruneResult,
  Store,
  StoredResource,
  StoredSpan,
  CorrelationQuery,
  TimeRange,
  ViewSpan,
} from '../store.js';
import {
  correlationMembers,
  oneRowPerHop,
  toBridge,
  toBridgePlan,
  toCircuitSummary,
  toCorrelation,
  toTraceState,
  toTraceSummary,
  type BridgeDbRow,
  type CircuitRow,
  type CorrelationDbRow,
  type TraceRow,
} from './rows.js';
import { Checkpointer } from './checkpointer.js';
import { configureConnection } from './connection.js';
import { estimateHeldEntries, SqliteHeldEntriesScan } from './held-entries-scan.js';
import { InFlightWrites } from './in-flight-writes.js';
import { RowWriter, type ResourceRow, type RowBatch } from './row-writer.js';
import { InlineRowSink, WriterThread, type RowSink } from './writer-thread.js';
import { chunkRecord, chunkSpanIds, encodeSpanChunks, readSpanChunkMeta, type ChunkSpanInput } from './span-chunk.js';
import { fillStoredCandidates, type StoredSpanPlace } from './stored-candidates.js';
import { LinkEnds, noteLinkEnd, type SpanLinkRow } from './link-hops.js';
import {
  CIRCUIT_ROWS_STARTING_IN,
  CIRCUIT_TRACES,
  CIRCUIT_TRACES_OF_RANGE_COUNT,
  CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST,
  TRACES_WITH_ERRORS,
  circuitTracesCount,
  circuitTracesNewestFirst,
  circuitsOfTracesIn,
  KEY_VALUE_TRACES_NEAR,
  KEY_VALUE_TRACES_NEAR_UNORDERED,
  keyValueTraceRows,
} from './circuit-traces.js';
import { circuitLogIn, furtherCircuitsOf } from './log-circuits.js';
import { migrate } from './schema.js';
import { completeSeverity, SEVERITY_ERROR, severityNumberOfText } from '../../otlp/severity.js';
import { SERVICE_HOUR_MS } from '../service-hours.js';
import { ClockSkewEvidence, SPAN_KIND_SERVER, serviceCalls, type ServiceCall, type TimedSpan } from '../../stitching/clock-skew.js';
import { timelineOrderOf } from '../timeline-order.js';
import { pruneInSlices, replansDone, replansPending } from './retention.js';
import type { SweepPacing } from '../slice-pace.js';
import { DataDirLock } from './data-dir-lock.js';
import { DataDirLostError, DataDirWatch, type DataDirWatchEvents } from './data-dir-watch.js';
import { DEFAULT_SEGMENT_BYTES, SpanBodyAppender, SegmentUsage, SpanBodyReader, type BodyRange } from './span-body-files.js';
import { repairTornChunks, type TornChunkRepair } from './torn-chunks.js';
import { markToldOf, noRoom, storageFailure } from '../write-failure.js';
import { probeWrite } from './write-probe.js';
import { openWal, shareWal } from './heap-wal.js';
import { CASEFOLD_FUNCTION, SEVERITY_OF_TEXT_FUNCTION, WhereClause } from './where-clause.js';
import { makeDirs } from './make-dirs.js';
import { byId, CIRCUITS_NEWEST_FIRST, CORRELATIONS_NEWEST_FIRST, LOGS_NEWEST_FIRST, LOGS_OLDEST_FIRST, TRACES_NEWEST_FIRST } from './list-order.js';

export interface SqliteStoreOptions {
  /** Directory for correlator.db, or ':memory:' for tests. */
  dataDir: string;
  /**
   * When set, new bridges are queued for export after `delayMs` (lets late data settle them); one
   * whose traces lack their roots (BridgeRow.settled) waits for them, at most `maxHoldMs`.
   */
  exportBridges: { delayMs: number; maxHoldMs: number; maxDepth: number } | null;
  onExportDropped?: (n: number) => void;
  onCheckpointError?: (e: Error) => void;
  /** A file-backed store writes ingest rows in a thread of its own unless this is false. */
  writerThread?: boolean;
  /** The writer thread failed; rows are written in line from then on. */
  onWriterError?: (e: Error) => void;
  /** Memory for the filter of trace ids, key groups and log records the store holds (0: none; default 64 MiB). */
  seenFilterBytes?: number;
  /** The keys that form groups (correlatingKeys), for upgrades that index by them; default those of the default configuration. */
  correlatingKeys?: readonly string[];
  /** Size past which span bytes go to a new segment file (span-body-files.ts); default 256 MiB. */
  spanSegmentBytes?: number;
  /**
   * Rebuild spans whose bytes are missing from their segment files even when the damage is not what
   * a power cut leaves (torn-chunks.ts); without it the store refuses to open then. Default false.
   */
  rebuildLostSpans?: boolean;
  /** Told when DATA_DIR no longer holds the store's files, or its lock file was taken again (data-dir-watch.ts). */
  dataDirEvents?: Partial<DataDirWatchEvents>;
  /** Told when writes succeed again after the storage took none (a full disk at start or later). */
  onWritesRestored?: () => void;
  /** How often a store whose storage takes no writes tries one; default WRITE_PROBE_MS. */
  writeProbeMs?: number;
  /**
   * For tests: applied to the store's own connection once configured, before it is read or
   * written (a page budget, which makes writes fail with SQLITE_FULL as a full disk does).
   */
  adjustConnection?: (db: Database.Database) => void;
}

/** A request's rows and what the in-flight index needs of them; null when everything was a duplicate. */
interface PlannedWrite {
  outcome: IngestOutcome;
  write: { batch: RowBatch; spanIds: Map<string, string[]>; logKeys: string[] } | null;
}

const RESOURCE_CACHE_MAX = 10_000;
/** Retry-After of a refused write is 10 s: by then a write has been tried again. */
const WRITE_PROBE_MS = 5_000;
/** The data directory's folder of span segment files. */
const SPAN_DIR = 'spans';
const DB_FILE = 'correlator.db';
const NO_BYTES = new Uint8Array(0);
/** Rows the seen filter's build reads between two turns of the event loop (a few ms). */
const SEEN_SCAN_SLICE = 2000;
const BRIDGE_RESOURCE: DecodedResourceScope = {
  serviceName: BRIDGE_SERVICE_NAME,
  keys: null,
  attributes: { 'service.name': BRIDGE_SERVICE_NAME },
  resourceBytes: otlpTypes().Resource.encode(
    otlpTypes().Resource.fromObject({ attributes: [{ key: 'service.name', value: { stringValue: BRIDGE_SERVICE_NAME } }] }),
  ).finish(),
  scopeName: BRIDGE_SCOPE_NAME,
  scopeVersion: '1',
};

/**
 * A circuit of at most as many traces is looked up in a range through its own trace rows; one of
 * more, through the traces in the range (read once for the list).
 */
const FEW_TRACES = 64;

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private readonly resourceIds = new Map<string, number>();
  private readonly resourceCache = new Map<number, StoredResource>();
  private queueDepth: number;
  /**
   * The key values refused_traces may hold rows of (read at start, added to by every write of one):
   * the few that ever filled an episode. The others' episodes plan as they always did, without a
   * lookup or a wait for the writer.
   */
  private readonly refusingGroups: Set<string>;
  /** Whether a span link between traces may be stored: until one is, none is looked for (linkSourcesInto). */
  private spanLinksMayExist: boolean;
  private readonly st: ReturnType<SqliteStore['prepare']>;
  /**
   * The id the next chunk gets. SQLite would give max(id) + 1, which is an id retention just
   * deleted when it took the newest chunks; counting here, no id comes back while this store is
   * open, so a chunk id names its bytes (a span's stamp) for as long as anyone can hold one.
   */
  private nextChunkId: number;
  private checkpointer: Checkpointer | null = null;
  /** Resource ids are given here, not by SQLite, so a request's rows can be built before they are written. */
  private nextResourceId: number;
  private sink: RowSink;
  /**
   * Where span bytes are appended and read, for a store with a directory; a store in memory keeps
   * them in rows.
   */
  private readonly spans: { dir: string; segmentBytes: number; reader: SpanBodyReader; usage: SegmentUsage } | null = null;
  /** Held while the store is open, for a store with a directory (data-dir-lock.ts). */
  private readonly lock: DataDirLock | null = null;
  /** Whether DATA_DIR still holds the store's files, for a store with a directory. */
  private readonly dataDirWatch: DataDirWatch | null = null;
  /** Commits of a writer thread that failed: the sink that replaced it counts from zero. */
  private commitsBefore = 0;
  /** The number of the last batch handed to the sink. */
  private seq = 0;
  /** Why the last write failed on the storage itself; null once one succeeds. */
  private storageFailure: string | null = null;
  /** Tries a write while the storage takes none, so the store knows when it does again. */
  private writeProbe: NodeJS.Timeout | null = null;
  /**
   * The WAL's index is in this connection's heap (heap-wal.ts): opened on a full disk, which could
   * not hold its shared-memory file. No other connection may open the store meanwhile, so rows are
   * written and checkpoints made on this one until writes succeed and the WAL is shared again.
   */
  private walInHeap = false;
  private readonly inFlight = new InFlightWrites();
  /** The resource rows each batch being planned carries, by hash (resourceId). */
  private readonly batchResources = new WeakMap<RowBatch, Map<string, ResourceRow>>();
  /** Hot-state misses that had to wait for the writer. */
  private inFlightWaits = 0;
  /** Which trace ids, key groups and log records the store cannot hold, so most new ones are not looked up. */
  private readonly seenFilter: SeenFilterKeeper;
  /** Chunks whose bytes an unclean shutdown kept from their segment files, rebuilt at open (torn-chunks.ts); null when none. */
  readonly repairedOnOpen: TornChunkRepair | null = null;

  constructor(private readonly opts: SqliteStoreOptions) {
    let file = ':memory:';
    if (opts.dataDir !== ':memory:') {
      makeDirs(opts.dataDir);
      this.lock = new DataDirLock(opts.dataDir);
      file = join(opts.dataDir, DB_FILE);
      const dir = join(opts.dataDir, SPAN_DIR);
      this.spans = {
        dir,
        segmentBytes: opts.spanSegmentBytes ?? DEFAULT_SEGMENT_BYTES,
        reader: new SpanBodyReader(dir),
        usage: new SegmentUsage(dir),
      };
    }
    // What opening takes (the lock, descriptors, the connection) is given back if any step fails:
    // a store refused at open must not keep the directory locked.
    let db: Database.Database | undefined;
    let heapWalBecause: unknown = null;
    try {
      const configure = (c: Database.Database) => {
        configureConnection(c, file !== ':memory:');
        opts.adjustConnection?.(c);
      };
      if (file === ':memory:') configure((db = new Database(file)));
      else ({ db, heapWalBecause } = openWal(file, configure));
      db.function(CASEFOLD_FUNCTION, { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
      db.function(SEVERITY_OF_TEXT_FUNCTION, { deterministic: true }, (v: unknown) => (typeof v === 'string' ? severityNumberOfText(v) : 0));
      migrate(db, { correlatingKeys: opts.correlatingKeys ?? DEFAULT_CORRELATING_KEYS });
      if (this.spans) {
        const appender = new SpanBodyAppender(this.spans.dir, this.spans.segmentBytes);
        try {
          this.repairedOnOpen = repairTornChunks(db, this.spans.dir, this.spans.reader, appender, opts.rebuildLostSpans ?? false);
        } finally {
          appender.close();
        }
      }
      // Nothing above wrote to a store already up to date: with no room for writes, what it holds
      // is still read, and writes are refused (503) until they succeed again.
      this.storageFailure = noRoomAtOpen(db, this.spans?.dir ?? null);
      // The WAL's index in heap memory is for a full disk only: with room, the shared-memory file
      // failed for another reason, which is refused as before.
      if (heapWalBecause !== null && this.storageFailure === null) throw heapWalBecause;
      this.walInHeap = heapWalBecause !== null;
    } catch (e) {
      this.spans?.reader.close();
      db?.close();
      this.lock?.release();
      throw e;
    }
    this.db = db;
    if (this.lock)
      this.dataDirWatch = new DataDirWatch(opts.dataDir, [DB_FILE, `${DB_FILE}-wal`, SPAN_DIR], this.lock, {
        onLost: opts.dataDirEvents?.onLost ?? (() => {}),
        onRelocked: opts.dataDirEvents?.onRelocked ?? (() => {}),
      });
    if (file !== ':memory:' && !this.walInHeap)
      this.checkpointer = new Checkpointer(file, e => opts.onCheckpointError?.(e));
    this.st = this.prepare();
    this.queueDepth = (this.db.prepare('SELECT count(*) AS n FROM export_queue').get() as { n: number }).n;
    this.refusingGroups = keyGroupsOf(this.db, 'refused_traces');
    this.spanLinksMayExist = this.db.prepare("SELECT 1 FROM links WHERE origin = 'otlp' LIMIT 1").get() !== undefined;
    this.nextChunkId = (this.db.prepare('SELECT coalesce(max(id), 0) + 1 FROM span_chunks').pluck().get() as number);
    this.nextResourceId = (this.db.prepare('SELECT coalesce(max(id), 0) + 1 FROM resources').pluck().get() as number);
    this.sink =
      this.spans && opts.writerThread !== false && !this.walInHeap
        ? this.writerThread()
        : new InlineRowSink(this.db, this.inlineWriter());
    this.seenFilter = new SeenFilterKeeper({
      maxBytes: opts.seenFilterBytes ?? 64 * 1024 * 1024,
      estimateEntries: () => estimateHeldEntries(this.db),
      openScan: () => new SqliteHeldEntriesScan(this.db),
      addInFlight: f =>
        this.inFlight.forEachWritten(
          id => f.addTrace(id),
          (key, value) => f.addGroup(key, value),
          dedupe => f.addLog(dedupe),
        ),
      onWork: () => setImmediate(this.pumpSeen),
    });
    this.seenFilter.start();
    // A small store is read at once, so its filter answers from the first request.
    this.pumpSeen();
    if (this.storageFailure !== null) this.startWriteProbe();
  }

  /** Why the storage takes no writes, as last found (no write is tried); null while it takes them. */
  get writesRefused(): string | null {
    return this.storageFailure;
  }

  /** Remembers why writes fail, or that they succeed again; probes on a timer meanwhile. */
  private setStorageFailure(why: string | null): void {
    const was = this.storageFailure;
    this.storageFailure = why;
    if (was === null && why !== null) this.startWriteProbe();
    if (was !== null && why === null) {
      if (this.writeProbe) clearInterval(this.writeProbe);
      this.writeProbe = null;
      this.opts.onWritesRestored?.();
    }
  }

  private startWriteProbe(): void {
    this.writeProbe ??= setInterval(() => {
      if (this.db.open) this.writeTrouble();
    }, this.opts.writeProbeMs ?? WRITE_PROBE_MS).unref();
  }

  /** Reads a slice for the seen filter's build, and comes back for the next one after other work. */
  private readonly pumpSeen = (): void => {
    if (this.db.open && this.seenFilter.pump(SEEN_SCAN_SLICE)) setImmediate(this.pumpSeen);
  };

  /** The segment files of received spans' bytes (none for a store in memory). */
  spanSegmentStats(): { segments: number; bytes: number } {
    return this.spans ? this.spans.usage.read() : { segments: 0, bytes: 0 };
  }

  seenFilterStats(): SeenFilterStats {
    return this.seenFilter.stats();
  }

  /** For /metrics: batches not yet committed, whether a thread writes them, misses that waited, commits. */
  writeStats(): { inFlight: number; writerThread: boolean; waits: number; commits: number } {
    return {
      inFlight: this.inFlight.size,
      writerThread: this.sink instanceof WriterThread,
      waits: this.inFlightWaits,
      commits: this.commitsBefore + this.sink.commits(),
    };
  }

  /** The thread is gone and the batches it held were rejected: from now on rows are written in line. */
  private writerFailed(e: Error): void {
    this.commitsBefore += this.sink.commits();
    // A writer of its own: it reads what the thread wrote (row-writer.ts, refusalsMayExist).
    this.sink = new InlineRowSink(this.db, this.inlineWriter(), this.seq);
    this.opts.onWriterError?.(e);
  }

  /** The thread ingest rows are written in, on its own connection to the store's file. */
  private writerThread(): WriterThread {
    return new WriterThread(join(this.opts.dataDir, DB_FILE), this.spans!, e => this.writerFailed(e));
  }

  /**
   * The WAL shared again once writes succeed after a start on a full disk (heap-wal.ts), and the
   * connections it kept out started: the checkpointer, and the writer thread in place of this
   * connection's writer. Throws what kept it in heap memory.
   */
  private shareWalAgain(): void {
    shareWal(this.db);
    this.walInHeap = false;
    // Deleted and made again by the move: a new file, not a WAL replaced under the store.
    this.dataDirWatch?.renew(`${DB_FILE}-wal`);
    const file = join(this.opts.dataDir, DB_FILE);
    this.checkpointer = new Checkpointer(file, e => this.opts.onCheckpointError?.(e));
    // The inline sink has no batch in flight: it writes each one before returning.
    if (this.spans && this.opts.writerThread !== false) {
      this.commitsBefore += this.sink.commits();
      void this.sink.close();
      this.sink = this.writerThread();
    }
  }

  /** A writer on the store's own connection; span bytes go to segment files unless the store is in memory. */
  private inlineWriter(): RowWriter {
    return new RowWriter(this.db, this.spans ? new SpanBodyAppender(this.spans.dir, this.spans.segmentBytes) : null);
  }

  private prepare() {
    const d = this.db;
    // Before the statements that name it; made once, as a schema change re-prepares them all.
    // Its pages are kept once its rows are deleted, and reused by the next page's ids: the temp
    // database stays the size of the largest circuit paged (8 MB for 200,000 traces; in a temp
    // file past the connection's cache), not more. Giving them back (auto_vacuum, RV19) made each
    // first page of such a circuit 30-40 ms slower.
    d.exec(`CREATE TEMP TABLE IF NOT EXISTS ${PAGE_TRACES_TABLE} (trace_id TEXT PRIMARY KEY) WITHOUT ROWID`);
    return {
      clearPageTraces: d.prepare(`DELETE FROM ${PAGE_TRACES_TABLE}`),
      fillPageTraces: d.prepare(`INSERT OR IGNORE INTO ${PAGE_TRACES_TABLE} ${CIRCUIT_TRACES}`),
      pageTracesExtent: d.prepare(`SELECT min(first_ms) AS first, max(last_ms) AS last FROM traces WHERE trace_id IN (${PAGE_TRACES})`),
      logExists: d.prepare('SELECT 1 FROM logs WHERE dedupe = ?').pluck(),
      resourceIdByHash: d.prepare('SELECT id FROM resources WHERE hash = ?').pluck(),
      resourceById: d.prepare('SELECT service, scope_name, scope_version, body FROM resources WHERE id = ?'),
      circuitById: d.prepare('SELECT * FROM circuits WHERE circuit_id = ?'),
      // Bridge links are not rows of their own: a bridge row names both ends (a row per group: once).
      linksFrom: d.prepare(
        `SELECT source_trace_id, source_span_id, target_trace_id, target_span_id, origin FROM links WHERE source_trace_id = ?
         UNION ALL
         SELECT DISTINCT trace_id, span_id, child_trace_id, child_span_id, 'bridge' FROM bridges
           WHERE parent_ref = (SELECT id FROM traces WHERE trace_id = ?)`,
      ),
      linksTo: d.prepare(
        `SELECT source_trace_id, source_span_id, target_trace_id, target_span_id, origin FROM links WHERE target_trace_id = ?
         UNION ALL
         SELECT DISTINCT trace_id, span_id, child_trace_id, child_span_id, 'bridge' FROM bridges
           WHERE child_ref = (SELECT id FROM traces WHERE trace_id = ?)`,
      ),
      // A join on the ids, not `IN (json_each)`: that built a temporary index of 5,000 ids first and
      // took four times as long.
      spanLinksFrom: d.prepare(
        `SELECT l.source_trace_id, l.source_span_id, l.target_trace_id, l.target_span_id FROM json_each(?) j
         JOIN links l ON l.source_trace_id = j.value WHERE l.origin = 'otlp'`,
      ),
      spanLinkSourcesInto: d.prepare(
        `SELECT DISTINCT source_trace_id, target_trace_id FROM links
         WHERE target_trace_id IN (SELECT value FROM json_each(?)) AND origin = 'otlp' AND source_trace_id != target_trace_id`,
      ),
      traceKeysOfRefs: d.prepare('SELECT id, keys, more_keys FROM traces WHERE id IN (SELECT value FROM json_each(?))'),
      tracesByIds: d.prepare('SELECT * FROM traces WHERE trace_id IN (SELECT value FROM json_each(?))'),
      keysOfTraces: d.prepare('SELECT trace_id, keys, more_keys, log_count FROM traces WHERE trace_id IN (SELECT value FROM json_each(?))'),
      correlationByRid: d.prepare('SELECT * FROM correlations WHERE rid = ?'),
      // The same test correlationRows makes of a row's group, on one row.
      correlationInGroups: d
        .prepare('SELECT 1 FROM correlations WHERE rid = ? AND (key, value) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))')
        .pluck(),
      // How many member traces the correlations a range from this time reaches list (the ranged
      // lookup probes each), read from at most as many correlations as the bound.
      membersEndingFrom: d
        .prepare('SELECT coalesce(sum(json_array_length(trace_ids)), 0) FROM (SELECT trace_ids FROM correlations WHERE last_ms >= ? LIMIT +?)')
        .pluck(),
      storedCorrelationMembers: d.prepare('SELECT trace_ids, log_count FROM correlations WHERE id = ?'),
      // The last argument: an id to leave out, or '' (no correlation has it) for none.
      groupCorrelations: d.prepare('SELECT * FROM correlations WHERE key = ? AND value = ? AND last_ms >= ? AND first_ms <= ? AND id != ?'),
      // `key = +?` and `LIMIT +?`: bare, SQLite prepared these anew at every run (sqlite-replans.test.ts).
      groupHasMember: d
        .prepare('SELECT 1 FROM trace_keys WHERE key = +? AND value = ? AND last_ms >= ? AND first_ms <= ? LIMIT 1')
        .pluck(),
      groupMembers: d.prepare(
        `SELECT trace_id, first_ms, last_ms FROM trace_keys WHERE key = +? AND value = ? AND last_ms >= ? AND first_ms <= ?
         ORDER BY first_ms LIMIT +?`,
      ),
      circuitMembersStartingIn: d.prepare(
        `SELECT trace_id, first_ms, last_ms FROM trace_keys WHERE key = 'circuit_id' AND value = ? AND first_ms > ? AND first_ms <= ?
         ORDER BY first_ms LIMIT +?`,
      ),
      groupHasRefusal: d
        .prepare('SELECT 1 FROM refused_traces WHERE key = +? AND value = ? AND last_ms >= ? AND first_ms <= ? LIMIT 1')
        .pluck(),
      memberRow: d.prepare('SELECT 1 FROM trace_keys WHERE key = +? AND value = ? AND trace_id = ?').pluck(),
      refusedRow: d.prepare('SELECT 1 FROM refused_traces WHERE key = +? AND value = ? AND trace_id = ?').pluck(),
      refusedSpan: d.prepare('SELECT first_ms, last_ms FROM refused_traces WHERE key = +? AND value = ? AND trace_id = ?'),
      tracesNear: d.prepare(KEY_VALUE_TRACES_NEAR).pluck(),
      tracesNearUnordered: d.prepare(KEY_VALUE_TRACES_NEAR_UNORDERED).pluck(),
      // By child first: a long-lived key value has many bridges, a few into these traces. The
      // unary + keeps the planner off the (key, value) index, which scanned them all.
      bridgesInto: d.prepare(
        `SELECT * FROM bridges WHERE +key = ? AND +value = ?
           AND child_ref IN (SELECT id FROM traces WHERE trace_id IN (SELECT value FROM json_each(?)))`,
      ),
      looseLogsIn: d.prepare(
        `SELECT count(*) AS count, min(time_ms) AS first_ms, max(time_ms) AS last_ms, json_group_array(DISTINCT service) AS services
         FROM loose_logs WHERE key = ? AND value = ? AND time_ms >= ? AND time_ms <= ?`,
      ),
      // Two ranges, each its own index scan: the span between them can hold many.
      looseLogsAround: d.prepare(
        `SELECT count(*) AS count, min(time_ms) AS first_ms, max(time_ms) AS last_ms, json_group_array(DISTINCT service) AS services FROM (
           SELECT time_ms, service FROM loose_logs WHERE key = ? AND value = ? AND time_ms >= ? AND time_ms < ?
           UNION ALL
           SELECT time_ms, service FROM loose_logs WHERE key = ? AND value = ? AND time_ms > ? AND time_ms <= ?)`,
      ),
      hasLooseLog: d.prepare('SELECT 1 FROM loose_logs WHERE key = ? AND value = ? AND time_ms >= ? AND time_ms <= ? LIMIT 1').pluck(),
      dueExports: d.prepare('SELECT ref, attempts, due_ms FROM export_queue WHERE due_ms <= ? ORDER BY due_ms LIMIT +?'),
      dequeueRead: d.prepare('DELETE FROM export_queue WHERE ref = ? AND due_ms = ?'),
      retryExport: d.prepare('UPDATE export_queue SET attempts = attempts + 1, last_error = ?, due_ms = ? WHERE ref = ?'),
      // Its members and the traces its full episodes refused (schema.ts, version 8).
      circuitTraceIds: d.prepare(circuitTracesNewestFirst(false)).pluck(),
      circuitTraceIdsIn: d.prepare(circuitTracesNewestFirst(true)).pluck(),
      circuitTraceCountIn: d.prepare(circuitTracesCount(true)).pluck(),
      circuitTraceCountOfRange: d.prepare(CIRCUIT_TRACES_OF_RANGE_COUNT).pluck(),
      circuitTraceIdsOfRange: d.prepare(CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST).pluck(),
      circuitRowsStartingIn: d.prepare(CIRCUIT_ROWS_STARTING_IN).pluck(),
      // How many traces a range from this time holds, counted (by traces_last) to at most the bound.
      tracesEndingFrom: d.prepare('SELECT count(*) FROM (SELECT 1 FROM traces WHERE last_ms >= ? LIMIT +?)').pluck(),
      // A trace's chunks are filed under its row id (schema.ts, version 4).
      chunkMetasOfTraces: d
        .prepare(
          `SELECT c.id, t.trace_id, c.meta, c.received_ms FROM traces t JOIN span_chunks c ON c.trace_ref = t.id
           WHERE t.trace_id IN (SELECT value FROM json_each(?)) ORDER BY c.id`,
        )
        .raw(),
      segmentReferenced: d.prepare('SELECT 1 FROM span_chunks WHERE body_segment = ? AND body_segment > 0 LIMIT 1').pluck(),
      chunkBodies: d
        .prepare(
          'SELECT id, body, body_segment, body_offset, body_length FROM span_chunks WHERE id IN (SELECT value FROM json_each(?))',
        )
        .raw(),
      // Bridges are filed under their traces' row ids (schema.ts, version 4).
      bridgesOfTraces: d.prepare(
        'SELECT * FROM bridges WHERE parent_ref IN (SELECT id FROM traces WHERE trace_id IN (SELECT value FROM json_each(?)))',
      ),
      servicesInHours: d
        .prepare('SELECT DISTINCT service FROM service_hours WHERE hour_ms > ? AND hour_ms <= ? ORDER BY service')
        .pluck(),
      // The rows of the groups that plan a hop; the first is its span as the views show it (rows.ts, oneRowPerHop).
      hopRows: d.prepare(
        'SELECT * FROM bridges WHERE parent_ref = (SELECT id FROM traces WHERE trace_id = ?) AND span_id = ? ORDER BY key, value',
      ),
    };
  }

  // ---- writes ---------------------------------------------------------------------------------
  //
  // Each request becomes one batch of rows: what is fresh, the ids of its chunks and resources, what
  // correlation derives and what goes to the export queue are settled here, on the main thread,
  // against the committed store plus the batches still in flight (in-flight-writes.ts). The sink
  // writes the batch in one transaction; the request is answered when it has committed.

  /** The resource's id, and its row in `batch` when the store may not hold it yet. */
  private resourceId(r: DecodedResourceScope, batch: RowBatch): number {
    const hash = createHash('sha1')
      .update(r.resourceBytes)
      .update('\u0000')
      .update(r.scopeName)
      .update('\u0000')
      .update(r.scopeVersion)
      .digest('base64');
    // A resource a batch in flight inserts goes again with this one, which is then whole even if
    // that batch fails; the insert ignores a row that is there.
    // The batch's rows by hash: a request may hold tens of thousands of scopes, each a resource
    // row, and scanning the batch's list for each made 40,000 of them take 15 s.
    let own = this.batchResources.get(batch);
    if (!own) this.batchResources.set(batch, (own = new Map()));
    const pending = this.inFlight.resource(hash);
    if (pending) {
      if (!own.has(hash)) {
        own.set(hash, pending.row);
        batch.resources.push(pending.row);
      }
      return pending.id;
    }
    let id = this.resourceIds.get(hash);
    if (id !== undefined) return id;
    // Equal resources may come as separate objects in one request (two ResourceSpans alike).
    const row = own.get(hash);
    if (row) return row.id;
    id = this.st.resourceIdByHash.get(hash) as number | undefined;
    if (id === undefined) {
      id = this.nextResourceId++;
      const added = { id, hash, service: r.serviceName, scopeName: r.scopeName, scopeVersion: r.scopeVersion, body: r.resourceBytes };
      own.set(hash, added);
      batch.resources.push(added);
      return id;
    }
    if (this.resourceIds.size >= RESOURCE_CACHE_MAX) this.resourceIds.clear();
    this.resourceIds.set(hash, id);
    return id;
  }

  private emptyBatch(receivedMs: number): RowBatch {
    return { receivedMs, resources: [], chunks: [], chunkMeta: NO_BYTES, chunkBody: NO_BYTES, logs: [], derived: null, bridgeResourceId: 0, exports: null };
  }

  // Not async functions on purpose: a suspended async function keeps its parameters and what it
  // still references, so a request's decoded items outlived the wait for the writer (~40 ms under
  // load) and were copied or promoted by each young-generation collection meanwhile. Planned in a
  // synchronous frame, they die before the wait.
  ingestSpans(spans: DecodedSpan[], derive: Derive<DecodedSpan>, receivedMs: number): Promise<IngestOutcome> {
    return this.writePlanned(() => this.planSpans(spans, derive, receivedMs));
  }

  ingestLogs(logs: DecodedLog[], derive: Derive<DecodedLog>, receivedMs: number): Promise<IngestOutcome> {
    return this.writePlanned(() => this.planLogs(logs, derive, receivedMs));
  }

  storeDerived(derive: () => DerivedWrites, receivedMs: number): Promise<boolean> {
    // A full disk: planned, the writes would fail and hot state would forget them; left as they
    // are, the next batch of the episode plans them, as it did before retention planned again.
    if (this.storageFailure !== null) return Promise.resolve(false);
    return this.writePlanned(() => {
      const w = derive();
      const outcome = { fresh: 0, duplicates: 0 };
      if (Object.values(w).every(rows => (rows as unknown[]).length === 0)) return { outcome, write: null };
      const batch = this.emptyBatch(receivedMs);
      this.addDerived(batch, w);
      return { outcome, write: { batch, spanIds: new Map(), logKeys: [] } };
    }).then(() => true);
  }

  private writePlanned(plan: () => PlannedWrite): Promise<IngestOutcome> {
    let planned: PlannedWrite;
    try {
      // Not planned once known lost: the store would only forget it again.
      const lost = this.dataDirWatch?.lost;
      if (lost) throw new DataDirLostError(lost);
      planned = plan();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const { outcome, write } = planned;
    // Looked at once more before the answer: a request is acknowledged only if what it sent (or
    // the copy a duplicate stands for) is where the next start will find it.
    const acknowledged = (): IngestOutcome => {
      this.dataDirWatch?.verify();
      return outcome;
    };
    return write ? this.write(write.batch, write.spanIds, write.logKeys).then(acknowledged) : Promise.resolve().then(acknowledged);
  }

  /** What storing a request's spans writes, settled synchronously. */
  private planSpans(spans: DecodedSpan[], derive: Derive<DecodedSpan>, receivedMs: number): PlannedWrite {
    const batch = this.emptyBatch(receivedMs);
    const byTrace = new Map<string, DecodedSpan[]>();
    for (const s of spans) {
      const list = byTrace.get(s.traceId);
      if (list) list.push(s);
      else byTrace.set(s.traceId, [s]);
    }
    const fresh: DecodedSpan[] = [];
    /** Each trace's fresh spans, in the order their chunks are written. */
    const chunks: { traceId: string; spans: ChunkSpanInput[] }[] = [];
    const idsByResource = new Map<DecodedResourceScope, number>();
    // One query for the request's traces: run once per trace, the statement's own overhead was
    // most of what de-duplicating cost, since most traces of a request are new.
    const chunkArrivals = new Map<Buffer, number>();
    const storedMetas = this.chunkMetasByTrace(
      [...byTrace.keys()].filter(id => this.seenFilter.mayHoldTrace(id)),
      chunkArrivals,
    );
    // One set for every trace of the request, emptied for each: a set per trace was a table
    // allocated for each of the request's ~50 traces.
    const seen = new Set<string>();
    let conflicting = 0;
    for (const [traceId, list] of byTrace) {
      // A replay or client retry re-sends spans already stored: only spans of this trace it has
      // not seen (stored, in flight, or earlier in this request) are stored and correlated.
      seen.clear();
      const metas = storedMetas.get(traceId);
      for (const meta of metas ?? []) for (const id of chunkSpanIds(meta)) seen.add(id);
      for (const pending of this.inFlight.spanIdsOf(traceId)) for (const id of pending.ids) seen.add(id);
      const chunk: ChunkSpanInput[] = [];
      // Made at the trace's first repeat only: new traces, most of a request's, pay nothing.
      let records: Map<string, StoredRecord> | null = null;
      for (const s of list) {
        if (seen.has(s.spanId)) {
          // A retry repeats the span; one that differs from the stored copy was dropped with a
          // bare 200 (RV17). Only stored copies are compared: those in flight have no record yet.
          const stored = metas && (records ??= storedRecords(metas)).get(s.spanId);
          if (stored && differsFromRecord(s, stored, chunkArrivals.get(stored[0]) ?? 0)) conflicting++;
          continue;
        }
        seen.add(s.spanId);
        let resourceId = idsByResource.get(s.resource);
        if (resourceId === undefined) {
          resourceId = this.resourceId(s.resource, batch);
          idsByResource.set(s.resource, resourceId);
        }
        // Only the fields a chunk keeps: spreading the decoded span copied all fourteen.
        chunk.push({
          spanId: s.spanId,
          parentSpanId: s.parentSpanId,
          startMs: s.startMs,
          endMs: s.endMs,
          kind: s.kind,
          statusCode: s.statusCode,
          resourceId,
          bytes: s.bytes,
        });
        fresh.push(s);
      }
      if (chunk.length > 0) chunks.push({ traceId, spans: chunk });
    }
    const outcome = { fresh: fresh.length, duplicates: spans.length - fresh.length, ...(conflicting > 0 ? { conflicting } : {}) };
    if (fresh.length === 0) return { outcome, write: null };
    const { meta, body, bounds } = encodeSpanChunks(chunks.map(c => c.spans));
    batch.chunkMeta = meta;
    batch.chunkBody = body;
    const freshIds = new Map<string, string[]>();
    chunks.forEach(({ traceId, spans: chunk }, i) => {
      batch.chunks.push({ id: this.nextChunkId++, traceId, count: chunk.length, ...bounds[i]! });
      freshIds.set(traceId, chunk.map(c => c.spanId));
    });
    this.addDerived(batch, derive(fresh));
    return { outcome, write: { batch, spanIds: freshIds, logKeys: [] } };
  }

  /** As planSpans, for log records. */
  private planLogs(logs: DecodedLog[], derive: Derive<DecodedLog>, receivedMs: number): PlannedWrite {
    const batch = this.emptyBatch(receivedMs);
    const fresh: DecodedLog[] = [];
    // A batch may hold up to MAX_BATCH_SIZE records: looked up, not scanned.
    const keys = new Set<string>();
    const idsByResource = new Map<DecodedResourceScope, number>();
    const occurrences = new Map<string, number>();
    for (const l of logs) {
      // A client retry resends identical records; the content hash makes that harmless.
      const content = logContentHash(l);
      const seen = occurrences.get(content) ?? 0;
      occurrences.set(content, seen + 1);
      const dedupe = logDedupeKey(content, seen);
      if (
        this.inFlight.hasLog(dedupe) ||
        keys.has(dedupe) ||
        (this.seenFilter.mayHoldLog(dedupe) && this.st.logExists.get(dedupe) !== undefined)
      )
        continue;
      let rid = idsByResource.get(l.resource);
      if (rid === undefined) {
        rid = this.resourceId(l.resource, batch);
        idsByResource.set(l.resource, rid);
      }
      const circuitId = l.keys?.circuit_id ?? null;
      const further = furtherCircuitsOf(l, circuitId);
      if (further) (batch.moreLogCircuits ??= []).push({ log: batch.logs.length, circuitIds: further });
      batch.logs.push([
        dedupe,
        l.timeMs,
        l.timeUnixNano,
        l.severityNumber,
        l.severityText,
        l.body,
        l.resource.serviceName,
        l.traceId,
        l.spanId,
        circuitId,
        JSON.stringify(l.keys ?? {}),
        JSON.stringify(l.attributes),
        rid,
        l.source,
      ]);
      keys.add(dedupe);
      fresh.push(l);
    }
    const outcome = { fresh: fresh.length, duplicates: logs.length - fresh.length };
    if (fresh.length === 0) return { outcome, write: null };
    this.addDerived(batch, derive(fresh));
    return { outcome, write: { batch, spanIds: new Map(), logKeys: [...keys] } };
  }

  private addDerived(batch: RowBatch, w: DerivedWrites): void {
    batch.derived = w;
    if (w.links.length > 0) this.spanLinksMayExist = true;
    for (const r of w.refusals) this.refusingGroups.add(groupMapKey(r.key, r.value));
    for (const r of w.demotions) this.refusingGroups.add(groupMapKey(r.key, r.value));
    if (w.bridgesAdded.length > 0) batch.bridgeResourceId = this.resourceId(BRIDGE_RESOURCE, batch);
    const exp = this.opts.exportBridges;
    // A trace that gained a key has its exported bridges sent again, and one whose root came
    // makes its bridges waiting for it due (row-writer.ts).
    if (!exp || (w.bridgesAdded.length === 0 && !w.traces.some(t => t.keysGained || t.entryBecameRoot))) return;
    // Two circuits can write the same bridge row in one batch (row-writer.ts): one queue entry.
    const refs = [...new Set(w.bridgesAdded.map(b => `${b.traceId}:${b.spanId}`))];
    const heldRefs = [...new Set(w.bridgesAdded.filter(b => !b.settled).map(b => `${b.traceId}:${b.spanId}`))];
    // Counted when planned, so batches in flight together respect the bound between them.
    this.queueDepth += refs.length;
    const dropOldest = Math.max(0, this.queueDepth - exp.maxDepth);
    this.queueDepth -= dropOldest;
    batch.exports = {
      refs,
      dueMs: batch.receivedMs + exp.delayMs,
      heldRefs,
      heldDueMs: batch.receivedMs + Math.max(exp.delayMs, exp.maxHoldMs),
      dropOldest,
      maxDepth: exp.maxDepth,
    };
  }

  /** Holds nothing of the batch but its export counts while the writer works (see ingestSpans). */
  private write(batch: RowBatch, spanIds: Map<string, string[]>, logKeys: string[]): Promise<void> {
    const seq = ++this.seq;
    this.inFlight.add(seq, batch, spanIds, logKeys);
    this.addToSeenFilter(batch);
    const exported = batch.exports && { planned: batch.exports.refs.length, dropOldest: batch.exports.dropOldest };
    // Only a write that stored span bytes says their segment files take writes again.
    const storesSpanBytes = this.spans !== null && batch.chunks.length > 0;
    return this.sink.write(seq, batch).then(
      result => {
        this.inFlight.settle(seq);
        this.writeSucceeded(storesSpanBytes);
        this.queueDepth -= result.dequeued;
        if (exported) {
          // Planned refs of hops that already had a row were not queued again; bridges sent again
          // for a key their traces gained were (RowWriteResult.enqueued).
          this.queueDepth -= exported.planned - result.enqueued;
          // Fewer rows than counted were there to drop: the queue holds them.
          this.queueDepth += exported.dropOldest - result.dropped;
          if (result.dropped > 0) this.opts.onExportDropped?.(result.dropped);
        }
      },
      (e: unknown) => {
        // Segment files cannot be made in a directory that was removed (ENOENT): that is the cause.
        const lost = this.dataDirWatch?.check();
        if (lost) e = new DataDirLostError(lost);
        // Only a failure of the storage itself, not of a bad row, makes the store not ready.
        const failure = storageFailure(e);
        if (failure !== null) {
          // Logged by the ingest routes when writes start failing, not again for each request.
          if (this.storageFailure !== null) markToldOf(e);
          this.setStorageFailure(failure);
        }
        this.inFlight.settle(seq);
        if (exported) this.queueDepth -= exported.planned - exported.dropOldest;
        // Ids of resources this batch would have inserted may be cached; the store decides again.
        this.resourceIds.clear();
        throw e;
      },
    );
  }

  /**
   * A write succeeded: the storage takes writes again if the write used all of it. One of logs
   * alone reuses room in the WAL while span files still cannot grow (a full disk fails the next
   * trace): the probe, which writes both, says then. So does it for a WAL still in heap memory.
   */
  private writeSucceeded(storedSpanBytes: boolean): void {
    if (this.storageFailure === null) return;
    if (storedSpanBytes && !this.walInHeap) this.setStorageFailure(null);
    else this.writeTrouble();
  }

  /** Before the batch can commit: a reader must never learn from the filter that its rows are not there. */
  private addToSeenFilter(batch: RowBatch): void {
    for (const c of batch.chunks) this.seenFilter.addTrace(c.traceId);
    for (const l of batch.logs) this.seenFilter.addLog(l[0]);
    const d = batch.derived;
    if (d) {
      for (const t of d.traces) this.seenFilter.addTrace(t.traceId);
      for (const m of d.memberships) this.seenFilter.addGroup(m.key, m.value);
      for (const l of d.looseLogs) this.seenFilter.addGroup(l.key, l.value);
    }
    this.seenFilter.settleAdds();
  }

  /** Each trace's chunk meta records, oldest chunk first, read with one query for all the traces. */
  /** The traces' chunk metas by trace; `receivedMs`, if given, gets each meta's chunk's arrival. */
  private chunkMetasByTrace(traceIds: readonly string[], receivedMs?: Map<Buffer, number>): Map<string, Buffer[]> {
    const byTrace = new Map<string, Buffer[]>();
    if (traceIds.length === 0) return byTrace;
    for (const [, traceId, meta, received] of this.st.chunkMetasOfTraces.all(JSON.stringify(traceIds)) as [number, string, Buffer, number][]) {
      receivedMs?.set(meta, received);
      const list = byTrace.get(traceId);
      if (list) list.push(meta);
      else byTrace.set(traceId, [meta]);
    }
    return byTrace;
  }

  // ---- state loading (hot-state misses and warm-up) --------------------------------------------

  /**
   * Hot state holds what the batches in flight wrote, so it asks the store only about traces and
   * keys they did not touch, unless it evicted one since: then the reader waits for the commit.
   */
  private awaitWritesOf(touched: boolean): void {
    if (touched) {
      this.inFlightWaits++;
      this.sink.drain();
    }
  }

  /** Waits for the batches in flight that write (key, value), if any. */
  private awaitGroupWrites(key: string, value: string): void {
    this.awaitWritesOf(this.inFlight.writesGroup(key, value, this.sink.settled()));
  }

  loadTraces(traceIds: readonly string[]): TraceState[] {
    if (traceIds.length === 0) return [];
    this.awaitWritesOf(traceIds.some(id => this.inFlight.writesTrace(id, this.sink.settled())));
    // After the wait: a batch in flight has already added its traces to the filter.
    traceIds = traceIds.filter(id => this.seenFilter.mayHoldTrace(id));
    if (traceIds.length === 0) return [];
    // Candidate parent spans are rebuilt from the span rows: loading is rare (restart, eviction),
    // and keeping them on the trace row would rewrite them with every batch.
    const states = (this.st.tracesByIds.all(JSON.stringify(traceIds)) as TraceRow[]).map(toTraceState);
    if (states.length === 0) return states;
    const chunks = new Map<string, { chunkId: number; meta: Buffer }[]>();
    for (const [chunkId, traceId, meta] of this.st.chunkMetasOfTraces.all(JSON.stringify(states.map(t => t.traceId))) as [number, string, Buffer][]) {
      const list = chunks.get(traceId);
      if (list) list.push({ chunkId, meta });
      else chunks.set(traceId, [{ chunkId, meta }]);
    }
    // In the same synchronous call as the records: nothing can have deleted their chunks between.
    fillStoredCandidates(states, chunks, id => this.resource(id).serviceName, places => this.spanBytesAt(places));
    return states;
  }

  membershipOf(key: string, value: string, traceId: string): 'member' | 'refused' | null {
    this.awaitGroupWrites(key, value);
    if (this.st.memberRow.get(key, value, traceId) !== undefined) return 'member';
    return this.st.refusedRow.get(key, value, traceId) !== undefined ? 'refused' : null;
  }

  refusalsNear(key: string, value: string, fromMs: number, toMs: number): boolean {
    if (!this.refusingGroups.has(groupMapKey(key, value))) return false;
    this.awaitGroupWrites(key, value);
    return this.st.groupHasRefusal.get(key, value, fromMs, toMs) !== undefined;
  }

  tracesNear(key: string, value: string, fromMs: number, toMs: number, limit: number): string[] {
    this.awaitGroupWrites(key, value);
    const all = this.st.tracesNearUnordered.all({ key, value, fromMs, toMs, limit: limit + 1 }) as string[];
    return all.length <= limit ? all : (this.st.tracesNear.all({ key, value, fromMs, toMs, limit }) as string[]);
  }

  linkSourcesInto(traceIds: readonly string[]): [source: string, target: string][] {
    // Most requests bring new traces and no store holds links: no query for them.
    if (!this.spanLinksMayExist || traceIds.length === 0) return [];
    return this.st.spanLinkSourcesInto.raw().all(JSON.stringify(traceIds)) as [string, string][];
  }

  bridgesInto(key: string, value: string, childTraceIds: readonly string[]): BridgePlan[] {
    if (childTraceIds.length === 0) return [];
    this.awaitGroupWrites(key, value);
    return (this.st.bridgesInto.all(key, value, JSON.stringify(childTraceIds)) as BridgeDbRow[]).map(toBridgePlan);
  }

  persistedMembers(correlationId: string): number {
    const row = this.st.storedCorrelationMembers.get(correlationId) as { trace_ids: string; log_count: number } | undefined;
    return row ? correlationMembers((JSON.parse(row.trace_ids) as string[]).length, row.log_count) : 0;
  }

  looseLogs(key: string, value: string, fromMs: number, toMs: number): LooseLogSpan | null {
    this.awaitGroupWrites(key, value);
    if (!this.seenFilter.mayHoldGroup(key, value)) return null;
    return this.looseLogsIn(key, value, fromMs, toMs);
  }

  private looseLogsIn(key: string, value: string, fromMs: number, toMs: number): LooseLogSpan | null {
    return looseLogSpan(this.st.looseLogsIn.get(key, value, fromMs, toMs) as LooseLogsRow);
  }

  /** The logs of no trace in [fromMs, toMs] and outside `except`, which lies within it. */
  private looseLogsAround(key: string, value: string, fromMs: number, toMs: number, except: TimeSpan): LooseLogSpan | null {
    return looseLogSpan(this.st.looseLogsAround.get(key, value, fromMs, except.firstMs, key, value, except.lastMs, toMs) as LooseLogsRow);
  }

  episodesNear(
    key: string,
    value: string,
    fromMs: number,
    toMs: number,
    maxTraces: number,
    counted: TimeSpan | null,
    reached: TimeSpan | null = null,
    ownId?: string,
  ): NearbyEpisodes | null {
    // Every persisted correlation and bridge has members, so a key without members in the window
    // is new, as most keys a batch asks about are (a circuit seen for the first time). Asking
    // whether one exists takes 4 µs; the members query sets up a sort for its ORDER BY even when it
    // finds nothing (32 µs), and the correlation and bridge queries would follow.
    this.awaitGroupWrites(key, value);
    if (!this.seenFilter.mayHoldGroup(key, value)) return null;
    const hasMember = this.st.groupHasMember.get(key, value, fromMs, toMs) !== undefined;
    // Most key values have no logs of no trace near: asking whether any is a fifth of counting them.
    const looseLogs =
      this.st.hasLooseLog.get(key, value, fromMs, toMs) === undefined
        ? null
        : counted
          ? this.looseLogsAround(key, value, fromMs, toMs, counted)
          : this.looseLogsIn(key, value, fromMs, toMs);
    // A full episode spans the traces it refused, which are no member (schema.ts, version 8).
    if (!hasMember && !looseLogs && this.st.groupHasRefusal.get(key, value, fromMs, toMs) === undefined) return null;
    const limit = Number.isFinite(maxTraces) ? maxTraces : -1;
    // An episode that reached only later (the usual widening, as time goes on) and has merged all
    // within its reach before: what reaches beyond that reach and not into it starts after it, and
    // the circuit index and the correlations' by last datum find it without reading the episode's
    // own members and row, which it leaves out anyway. Other keys have no index by time: all read.
    const after = reached !== null && key === 'circuit_id' && fromMs >= reached.firstMs && toMs > reached.lastMs ? reached.lastMs : null;
    const memberRows = !hasMember
      ? []
      : after === null
        ? this.st.groupMembers.all(key, value, fromMs, toMs, limit)
        : this.st.circuitMembersStartingIn.all(value, after, toMs, limit);
    const members = (memberRows as { trace_id: string; first_ms: number; last_ms: number }[]).map(m => ({
      traceId: m.trace_id,
      firstMs: m.first_ms,
      lastMs: m.last_ms,
    }));
    const rows = this.st.groupCorrelations.all(key, value, after ?? fromMs, toMs, ownId ?? '') as CorrelationDbRow[];
    const correlations = rows.map(r => {
      const c = toCorrelation(r);
      // Its logs of no trace are one member, as the engine counts them; its traces' own logs are none.
      const loose = this.st.hasLooseLog.get(key, value, c.firstSeenMs, c.lastSeenMs) !== undefined;
      return {
        id: c.id,
        confidence: c.confidence,
        traceIds: c.traceIds,
        services: c.services,
        spanCount: c.spanCount,
        logCount: c.logCount,
        firstMs: c.firstSeenMs,
        lastMs: c.lastSeenMs,
        // Those counted as joining: none for an episode of logs alone, which is no correlation.
        members: c.traceIds.length > 0 ? c.traceIds.length + (loose ? 1 : 0) : 0,
      };
    });
    return { correlations, members, looseLogs };
  }

  loadGroup(key: string, value: string, fromMs: number, toMs: number, maxTraces: number, holding?: string): KeyGroup | null {
    const near = this.episodesNear(key, value, fromMs, toMs, maxTraces, null);
    if (!near) return null;
    // The one holding the trace asked about, else the latest correlation in the window; the
    // engine merges in any other (mergeEpisodes).
    let c: NearbyEpisodes['correlations'][number] | null = null;
    let alone = false;
    if (holding !== undefined) {
      c = near.correlations.find(x => x.traceIds.includes(holding)) ?? null;
      // A member no correlation lists is an episode of its own (one trace makes no correlation
      // row). Read back as the latest correlation's, a full one left it out, and the episodes its
      // later data joined stayed apart.
      alone = c === null && this.st.memberRow.get(key, value, holding) !== undefined;
      // A trace a full episode refused is listed by none: the latest correlation in its window may
      // be one of logs alone, and the full episode, never read back, was neither widened to the
      // trace's late data nor merged with what that data reaches (review fuzz, seed 184).
      if (c === null && !alone) c = this.refuserOf(key, value, holding, near.correlations, maxTraces);
    }
    if (!c && !alone) for (const x of near.correlations) if (!c || x.lastMs > c.lastMs) c = x;
    // A correlation spans its member traces whole, as the members' rows do (engine.ts, widenTo),
    // and its logs of no trace.
    const loose = near.looseLogs;
    const firstMs = Math.min(c?.firstMs ?? Infinity, loose?.firstMs ?? Infinity, ...near.members.map(m => m.firstMs));
    const lastMs = Math.max(c?.lastMs ?? -Infinity, loose?.lastMs ?? -Infinity, ...near.members.map(m => m.lastMs));
    const traceIds = c ? [...c.traceIds] : alone ? [holding!] : [];
    // Members of another correlation in the window are another episode's, which the engine merges
    // in within the cap (engine.ts, mergeEpisodes), as it does in hot state. Taken in here, they
    // filled the group read back, and it refused the trace that joins the two.
    const elsewhere = new Set(near.correlations.flatMap(x => (x === c ? [] : x.traceIds)));
    for (const m of near.members) if (!traceIds.includes(m.traceId) && !elsewhere.has(m.traceId)) traceIds.push(m.traceId);
    // The correlation's traces and the window's members together may pass the cap hot state keeps.
    if (traceIds.length > maxTraces) traceIds.length = maxTraces;
    // A group of one trace has no correlation row (a correlation has two members or more): its
    // counts and services are its trace's, which would otherwise start again from nothing. So
    // are a group's logs of no trace, which have their own rows. The engine sums a group read
    // back again from these (engine.ts, combine).
    const rows = c ? [] : (this.st.tracesByIds.all(JSON.stringify(traceIds)) as TraceRow[]);
    const looseLogs = loose?.count ?? 0;
    const services = c ? [...c.services] : [...new Set([...rows.flatMap(t => JSON.parse(t.services) as string[]), ...(loose?.services ?? [])])];
    // Only this episode's bridges: the key's other episodes keep theirs, which restitching this
    // one would otherwise remove as no longer planned.
    const listed = new Set(near.members.map(m => m.traceId));
    for (const x of near.correlations) for (const id of x.traceIds) listed.add(id);
    const bridges = new Map(this.bridgesInto(key, value, traceIds.filter(id => listed.has(id))).map(b => [b.childTraceId, b]));
    return {
      mapKey: groupMapKey(key, value),
      id: c?.id ?? correlationId(keyMatchMethod(key as BusinessKeyName), value, firstMs),
      method: keyMatchMethod(key as BusinessKeyName),
      key: key as KeyGroup['key'],
      value,
      confidence: c?.confidence ?? KEY_CONFIDENCE[key as keyof typeof KEY_CONFIDENCE] ?? 0.9,
      firstMs,
      lastMs,
      traceIds,
      traceSet: new Set(traceIds),
      services,
      spanCount: c?.spanCount ?? rows.reduce((n, t) => n + t.span_count, 0),
      logCount: c?.logCount ?? rows.reduce((n, t) => n + t.log_count, looseLogs),
      looseLogs,
      bridges: bridges.size > 0 ? bridges : null,
      persistedMembers: c?.members ?? 0,
      planned: false,
      reachUnmerged: false,
    };
  }

  /**
   * The full correlation that refused the trace, as far as the store can tell: the one nearest the
   * span its refusal row records (the engine checks it refused the trace: engine.ts, refused).
   */
  private refuserOf(
    key: string,
    value: string,
    traceId: string,
    correlations: NearbyEpisodes['correlations'],
    maxTraces: number,
  ): NearbyEpisodes['correlations'][number] | null {
    const r = this.st.refusedSpan.get(key, value, traceId) as { first_ms: number; last_ms: number } | undefined;
    if (!r) return null;
    let best: NearbyEpisodes['correlations'][number] | null = null;
    let bestGap = Infinity;
    for (const x of correlations) {
      if (x.traceIds.length < maxTraces) continue;
      const gap = Math.max(0, x.firstMs - r.last_ms, r.first_ms - x.lastMs);
      if (gap < bestGap || (gap === bestGap && x.lastMs > best!.lastMs)) [best, bestGap] = [x, gap];
    }
    return best;
  }

  // ---- export queue -----------------------------------------------------------------------------

  dueExports(nowMs: number, limit: number): ExportItem[] {
    const rows = this.st.dueExports.all(nowMs, limit) as { ref: string; attempts: number; due_ms: number }[];
    const hops = rows.map(r => {
      const [traceId, spanId] = r.ref.split(':') as [string, string];
      return this.st.hopRows.all(traceId, spanId) as BridgeDbRow[];
    });
    // One query for the keys of a batch of up to EXPORT_BATCH_SIZE bridges, not one per bridge.
    const keysOfRefs = this.traceKeysOf(hops.flatMap(h => (h[0] ? [h[0].parent_ref, h[0].child_ref] : [])));
    return rows.map((r, i) => {
      const [row, ...others] = hops[i]!;
      const otherGroups = others.map(o => ({ key: o.key as BusinessKeyName, value: o.value }));
      return { ref: r.ref, dueMs: r.due_ms, attempts: r.attempts, span: row ? this.bridgeSpan(row, keysOfRefs, otherGroups) : null };
    });
  }

  /**
   * An entry due anew since dueExports read it (a trace of its bridge gained a key while the copy
   * without it was being sent) stays, to be sent again with the key.
   */
  completeExports(items: readonly Pick<ExportItem, 'ref' | 'dueMs'>[]): void {
    this.db.transaction(() => {
      for (const { ref, dueMs } of items) if (this.st.dequeueRead.run(ref, dueMs).changes === 1) this.queueDepth--;
    })();
  }

  retryExports(refs: readonly string[], error: string, dueMs: number): void {
    this.db.transaction(() => {
      for (const ref of refs) this.st.retryExport.run(error.slice(0, 500), dueMs, ref);
    })();
  }

  exportQueueDepth(): number {
    return this.queueDepth;
  }

  // ---- reads --------------------------------------------------------------------------------------

  private resource(id: number): StoredResource {
    let r = this.resourceCache.get(id);
    if (!r) {
      const row = this.st.resourceById.get(id) as
        | { service: string; scope_name: string; scope_version: string; body: Buffer }
        | undefined;
      r = row
        ? { id, serviceName: row.service, scopeName: row.scope_name, scopeVersion: row.scope_version, body: row.body }
        : { id, serviceName: 'unknown_service', scopeName: '', scopeVersion: '', body: Buffer.alloc(0) };
      if (this.resourceCache.size >= RESOURCE_CACHE_MAX) this.resourceCache.clear();
      this.resourceCache.set(id, r);
    }
    return r;
  }

  /**
   * The business keys of a bridge's two traces, every value of each: the bridge span carries the
   * circuit's keys, not only the one that made the bridge. Read when the span is, as a view or the
   * exporter reads a few bridges at a time.
   */
  private bridgedKeys(row: BridgeDbRow, keysOfRefs?: ReadonlyMap<number, TraceKeyValues>): BridgeKeyValues | null {
    const known = keysOfRefs ?? this.traceKeysOf([row.parent_ref, row.child_ref]);
    return bridgeTraceKeys(known.get(row.parent_ref) ?? null, known.get(row.child_ref) ?? null);
  }

  /** The keys of traces rows, by row id: one query for a view's bridges. */
  private traceKeysOf(refs: readonly number[]): Map<number, TraceKeyValues> {
    const rows = this.st.traceKeysOfRefs.all(JSON.stringify(refs)) as { id: number; keys: string; more_keys: string }[];
    return new Map(rows.map(r => [r.id, traceKeyValuesOf(r.keys, r.more_keys)]));
  }

  /**
   * A bridge row as the span it stands for, with the bytes the bridge span has always had;
   * `otherGroups`, for export, adds the values of the other groups that plan its hop.
   */
  private bridgeSpan(row: BridgeDbRow, keysOfRefs?: ReadonlyMap<number, TraceKeyValues>, otherGroups: readonly GroupKey[] = []): StoredSpan {
    return {
      traceId: row.trace_id,
      spanId: row.span_id,
      parentSpanId: row.parent_span_id,
      service: BRIDGE_SERVICE_NAME,
      startMs: row.parent_start_ms,
      synthetic: true,
      body: Buffer.from(encodeBridgeSpan(toBridgePlan(row), this.bridgedKeys(row, keysOfRefs), otherGroups)),
      resource: this.resource(row.resource_id),
      stamp: null,
      slot: -1,
    };
  }

  async listCircuits(q: CircuitListQuery & TimeRange & { limit: number }): Promise<CircuitSummary[]> {
    if (q.fromMs !== undefined || q.toMs !== undefined) return this.listCircuitsIn(q, q.fromMs ?? -Number.MAX_VALUE, q.toMs ?? Number.MAX_VALUE);
    const where = new WhereClause()
      .contains('circuit_id', q.query)
      .add('EXISTS (SELECT 1 FROM json_each(circuits.services) WHERE value = ?)', q.service);
    if (q.status) where.add(q.status === 'error' ? 'error_count > 0' : 'error_count = 0');
    const sql = `SELECT * FROM circuits ${where} ORDER BY ${CIRCUITS_NEWEST_FIRST} LIMIT +?`;
    return (this.db.prepare(sql).all(...where.args, q.limit) as CircuitRow[]).map(toCircuitSummary);
  }

  /**
   * In a range, the circuits with data in it, as the detail, the stitched view and the logs take a
   * circuit in a range: a trace of theirs with a datum in it (circuitTraceIdsIn), or a log naming
   * the circuit in it. Their status, and what status= and service= match, are of those data: an
   * error in it is an error trace of those (traceErrors) or an ERROR log of no trace in it, as
   * errorCount counts them; a service is one of those traces' or logs'. The counts stay the
   * circuit's. A circuit whose extent overlaps the range holds data in it when its first or last
   * datum is in it; only the others are looked up, by the traces in the range (traces_last, read
   * once) and by the circuit's logs (logs_circuit, and log_circuits_circuit for those that name it
   * besides another).
   */
  private listCircuitsIn(q: CircuitListQuery & { limit: number }, fromMs: number, toMs: number): CircuitSummary[] {
    /**
     * Whether the circuit `circuits` has data in the range, of those the traces and logs conditions
     * pick. The traces in the range are read once for the statement (traces_last); `perRow`, for a
     * row's status, looks at a circuit's own traces when it has few: a list in a range of a day
     * shows 100 of thousands of circuits, and reading the day's traces for their status took 280 ms
     * over 20,000 circuits. A filter reads the range's traces: a circuit polled for days has thousands,
     * and a small range a few traces of many circuits that failed before. status= reads only the
     * range's error traces (traces_errors_last), where reading them all took 340 ms for a day.
     */
    const dataIn = (traceWhere: string, logWhere: string, args: unknown[], perRow = false): [string, unknown[]] => {
      const range = [fromMs, toMs, ...args];
      const ofRange = `circuit_id IN (${circuitsOfTracesIn(traceWhere)})`;
      const ofCircuit = ['trace_keys', 'refused_traces']
        .map(
          table => `EXISTS (SELECT 1 FROM ${table} k JOIN traces t ON t.trace_id = k.trace_id
            WHERE k.key = 'circuit_id' AND k.value = circuits.circuit_id AND t.last_ms >= ? AND t.first_ms <= ? ${traceWhere})`,
        )
        .join(' OR ');
      const [traces, traceArgs] = perRow
        ? [`CASE WHEN trace_count <= ${FEW_TRACES} THEN ${ofCircuit} ELSE ${ofRange} END`, [...range, ...range, ...range]]
        : [ofRange, range];
      return [
        `(${traces} OR ${circuitLogIn('circuits.circuit_id', logWhere)})`,
        [...traceArgs, ...range, ...range],
      ];
    };
    // Errors in the range are some of its errors: a circuit of none is not looked up.
    const errorsIn = (perRow = false): [string, unknown[]] => {
      const [sql, args] = dataIn(TRACES_WITH_ERRORS, `AND trace_id = '' AND severity_number >= ${SEVERITY_ERROR}`, [], perRow);
      return [`(error_count > 0 AND ${sql})`, args];
    };
    const [anyIn, anyArgs] = dataIn('', '', []);
    const where = new WhereClause()
      .contains('circuit_id', q.query)
      .overlaps('first_ms', 'last_ms', fromMs, toMs)
      .add(`(last_ms <= ? OR first_ms >= ? OR ${anyIn})`, toMs, fromMs, ...anyArgs);
    if (q.service) {
      const [serviceIn, serviceArgs] = dataIn('AND EXISTS (SELECT 1 FROM json_each(t.services) WHERE value = ?)', 'AND service = ?', [q.service]);
      where.add(serviceIn, ...serviceArgs);
    }
    if (q.status) {
      const [errors, errorArgs] = errorsIn();
      where.add(q.status === 'error' ? errors : `NOT ${errors}`, ...errorArgs);
    }
    // Under status= every row has that status: the circuits' errors are not looked up a second time.
    const [status, statusArgs] = q.status ? [q.status === 'error' ? '1' : '0', []] : errorsIn(true);
    const sql = `SELECT *, ${status} AS errors_in_range FROM circuits ${where} ORDER BY ${CIRCUITS_NEWEST_FIRST} LIMIT +?`;
    const rows = this.db.prepare(sql).all(...statusArgs, ...where.args, q.limit) as (CircuitRow & { errors_in_range: number })[];
    return rows.map(r => ({ ...toCircuitSummary(r), status: r.errors_in_range ? 'error' : 'ok' }));
  }

  async getCircuit(circuitId: string): Promise<CircuitSummary | null> {
    const row = this.st.circuitById.get(circuitId) as CircuitRow | undefined;
    return row ? toCircuitSummary(row) : null;
  }

  async circuitTraceIds(circuitId: string, range?: TimeRange): Promise<string[]> {
    return this.circuitTraceIdsNow(circuitId, range);
  }

  async recentCircuitTraceIds(circuitId: string, range: TimeRange, limit: number): Promise<{ traceIds: string[]; truncated: boolean }> {
    // One more than asked for says whether there were more.
    const newest = this.newestCircuitTraceIds(circuitId, range, limit + 1);
    const truncated = newest.length > limit;
    if (truncated) newest.length = limit;
    return { traceIds: newest.reverse(), truncated };
  }

  async circuitTraceCount(circuitId: string, range: TimeRange): Promise<number> {
    if (range.fromMs === undefined && range.toMs === undefined) {
      return (this.st.circuitById.get(circuitId) as CircuitRow | undefined)?.trace_count ?? 0;
    }
    const ranged = { circuit: circuitId, fromMs: range.fromMs ?? -Number.MAX_VALUE, toMs: range.toMs ?? Number.MAX_VALUE };
    // As the range's traces are listed: counting every trace of a circuit polled for days took
    // 12-15 ms for its last minutes, once for each cut view.
    const fromRange = range.fromMs !== undefined && this.rangeHoldsFewerTraces({ ...ranged, limit: -1 });
    return (fromRange ? this.st.circuitTraceCountOfRange : this.st.circuitTraceCountIn).get(ranged) as number;
  }

  private circuitTraceIdsNow(circuitId: string, range?: TimeRange): string[] {
    return this.newestCircuitTraceIds(circuitId, range, -1).reverse();
  }

  /** At most `limit` (-1: all) of the circuit's traces, newest first (circuitTracesNewestFirst). */
  private newestCircuitTraceIds(circuitId: string, range: TimeRange | undefined, limit: number): string[] {
    if (range?.fromMs === undefined && range?.toMs === undefined) return this.st.circuitTraceIds.all({ circuit: circuitId, limit }) as string[];
    const ranged = { circuit: circuitId, fromMs: range.fromMs ?? -Number.MAX_VALUE, toMs: range.toMs ?? Number.MAX_VALUE, limit };
    const fromRange = range.fromMs !== undefined && this.rangeHoldsFewerTraces(ranged);
    return (fromRange ? this.st.circuitTraceIdsOfRange : this.st.circuitTraceIdsIn).all(ranged) as string[];
  }

  /**
   * Whether a circuit's traces in a range are read from the range's traces (circuit-traces.ts): when
   * the walk of the circuit's rows cannot stop early, as the range starts fewer of its rows than it
   * lists, and the range holds fewer traces, of all circuits, than the circuit has. Both counts
   * stop at what they are compared with.
   */
  private rangeHoldsFewerTraces(ranged: { circuit: string; fromMs: number; toMs: number; limit: number }): boolean {
    if (ranged.limit !== -1 && (this.st.circuitRowsStartingIn.get(ranged) as number) >= ranged.limit) return false;
    const traces = (this.st.circuitById.get(ranged.circuit) as CircuitRow | undefined)?.trace_count ?? 0;
    return (this.st.tracesEndingFrom.get(ranged.fromMs, traces) as number) < traces;
  }

  async traceSummaries(traceIds: readonly string[]): Promise<TraceSummary[]> {
    if (traceIds.length === 0) return [];
    const rows = this.st.tracesByIds.all(JSON.stringify(traceIds)) as TraceRow[];
    return rows.map(toTraceSummary).sort((a, b) => a.startTimeMs - b.startTimeMs);
  }

  spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: StoredSpan[]; total: number; bridgeTotal: number }>;
  spansOfTraces(
    traceIds: readonly string[],
    limit: number,
    bodyNeeded: BodyNeeded,
    bridgesOf?: { key: string; value: string },
  ): Promise<{ spans: ViewSpan[]; total: number; bridgeTotal: number }>;
  async spansOfTraces(
    traceIds: readonly string[],
    limit: number,
    bodyNeeded: BodyNeeded = () => true,
    bridgesOf?: { key: string; value: string },
  ): Promise<{ spans: ViewSpan[]; total: number; bridgeTotal: number }> {
    if (traceIds.length === 0) return { spans: [], total: 0, bridgeTotal: 0 };
    const ids = JSON.stringify(traceIds);
    const spans: ViewSpan[] = [];
    /** Span i is record `spans[i].slot` of chunk `chunkOf[i]`; -1 for a bridge span, read with its bytes. */
    const chunkOf: number[] = [];
    const chunks = this.st.chunkMetasOfTraces.all(ids) as [id: number, traceId: string, meta: Buffer][];
    chunks.forEach(([stamp, traceId, meta], c) => {
      // Once the store is open a chunk is never changed, only deleted (torn-chunks.ts rebuilds some
      // before), and its id is not given again (nextChunkId).
      // Straight from the records: a view reads thousands of spans and needs only these fields.
      for (let i = 0, n = chunkRecord.count(meta); i < n; i++) {
        const resource = this.resource(chunkRecord.resourceId(meta, i));
        spans.push({
          traceId,
          spanId: chunkRecord.spanId(meta, i),
          parentSpanId: chunkRecord.parentSpanId(meta, i),
          service: resource.serviceName,
          startMs: chunkRecord.startMs(meta, i),
          synthetic: false,
          body: null,
          resource,
          stamp,
          slot: i,
        });
        chunkOf.push(c);
      }
    });
    // A circuit's view shows its own bridges, as its bridge list does: another circuit's from a
    // trace they share would give a trace a second parent there.
    const fromTraces = this.st.bridgesOfTraces.all(ids) as BridgeDbRow[];
    const bridgeRows = bridgesOf ? fromTraces.filter(b => b.key === bridgesOf.key && b.value === bridgesOf.value) : oneRowPerHop(fromTraces);
    const keysOfRefs = this.traceKeysOf(bridgeRows.flatMap(b => [b.parent_ref, b.child_ref]));
    for (const row of bridgeRows) {
      spans.push(this.bridgeSpan(row, keysOfRefs));
      chunkOf.push(-1);
    }
    // A circuit's traces are capped (MAX_TRACES_PER_CIRCUIT per episode): all its spans are read and
    // the timeline cut here, in the order the view shows (roots and parents first at equal times),
    // so that a cut view is the start of the full one.
    const order = timelineOrderOf(spans, s => s.startMs);
    if (order.length > limit) order.length = limit;
    // Bodies are read only for the chunks that have a span the caller needs the bytes of: a repeat
    // view whose JSON is held reads no span bytes at all.
    const wanted: number[] = [];
    const chunkWanted = new Uint8Array(chunks.length);
    for (const i of order) {
      const c = chunkOf[i]!;
      if (!bodyNeeded(spans[i]!) || c < 0) continue;
      wanted.push(i);
      chunkWanted[c] = 1;
    }
    if (wanted.length > 0) {
      const chunkIds = chunks.filter((_, c) => chunkWanted[c] === 1).map(([id]) => id);
      const bodies = this.chunkBodiesOf(chunkIds);
      for (const i of wanted) {
        const [id, , meta] = chunks[chunkOf[i]!]!;
        const body = bodies.get(id);
        // Read in the same synchronous call as the records: nothing can have deleted the chunk.
        if (!body) throw new Error(`span chunk ${id} vanished while a view was read`);
        const span = spans[i]!;
        const offset = chunkRecord.offset(meta, span.slot);
        span.body = body.subarray(offset, offset + chunkRecord.length(meta, span.slot));
      }
    }
    return { spans: order.map(i => spans[i]!), total: spans.length, bridgeTotal: bridgeRows.length };
  }

  /**
   * The bytes of single spans, read alone from their segment files (a trace's few calls, not its
   * chunks' whole bodies); undefined for a chunk no longer stored.
   */
  private spanBytesAt(places: readonly StoredSpanPlace[]): (Uint8Array | undefined)[] {
    const rows = new Map<number, ChunkBodyRow>();
    const ids = [...new Set(places.map(p => p.chunkId))];
    for (const row of this.st.chunkBodies.all(JSON.stringify(ids)) as ChunkBodyRow[]) rows.set(row[0], row);
    const out: (Uint8Array | undefined)[] = new Array(places.length).fill(undefined);
    const inFiles: BodyRange[] = [];
    places.forEach((p, i) => {
      const row = rows.get(p.chunkId);
      if (!row) return;
      const offset = chunkRecord.offset(p.meta, p.slot);
      const length = chunkRecord.length(p.meta, p.slot);
      if (row[2] === 0) out[i] = row[1].subarray(offset, offset + length);
      else inFiles.push({ id: i, segment: row[2], offset: row[3] + offset, length });
    });
    if (inFiles.length > 0) {
      if (!this.spans) throw new Error('span chunks point into segment files, and this store has no directory');
      for (const [i, bytes] of this.spans.reader.readPlaces(inFiles)) out[i] = bytes;
    }
    return out;
  }

  /** The span bytes of chunks, by id: from their rows, or read from their segment files. */
  private chunkBodiesOf(chunkIds: number[]): Map<number, Buffer> {
    const rows = this.st.chunkBodies.all(JSON.stringify(chunkIds)) as ChunkBodyRow[];
    const bodies = new Map<number, Buffer>();
    const inFiles: ChunkBodyRow[] = [];
    for (const row of rows) {
      if (row[2] === 0) bodies.set(row[0], row[1]);
      else inFiles.push(row);
    }
    if (inFiles.length > 0) {
      if (!this.spans) throw new Error('span chunks point into segment files, and this store has no directory');
      const read = this.spans.reader.readPlaces(inFiles.map(([id, , segment, offset, length]) => ({ id, segment, offset, length })));
      for (const [id, bytes] of read) bodies.set(id, bytes);
    }
    return bodies;
  }

  async bridgesOf(filter: { circuitId?: string; fromTraceIds?: readonly string[]; traceId?: string }): Promise<Bridge[]> {
    let rows: BridgeDbRow[];
    if (filter.circuitId !== undefined && filter.fromTraceIds !== undefined) {
      // By parent, not by the circuit's index: a long-lived circuit's last minutes read their own
      // bridges, not its whole history's.
      rows = this.db
        .prepare(
          `SELECT * FROM bridges WHERE +key = 'circuit_id' AND +value = ?
             AND parent_ref IN (SELECT id FROM traces WHERE trace_id IN (SELECT value FROM json_each(?))) ORDER BY child_start_ms, id`,
        )
        .all(filter.circuitId, JSON.stringify(filter.fromTraceIds)) as BridgeDbRow[];
    } else if (filter.circuitId !== undefined) {
      rows = this.db
        // Ties in row order, ranged or not (above).
        .prepare(`SELECT * FROM bridges WHERE key = 'circuit_id' AND value = ? ORDER BY child_start_ms, id`)
        .all(filter.circuitId) as BridgeDbRow[];
    } else if (filter.traceId !== undefined) {
      rows = this.db
        .prepare(
          `SELECT * FROM bridges WHERE parent_ref = (SELECT id FROM traces WHERE trace_id = ?)
           UNION SELECT * FROM bridges WHERE child_ref = (SELECT id FROM traces WHERE trace_id = ?) ORDER BY child_start_ms`,
        )
        .all(filter.traceId, filter.traceId) as BridgeDbRow[];
      // A trace's bridges are its bridge spans: each hop once.
      rows = oneRowPerHop(rows);
    } else rows = [];
    return rows.map(toBridge);
  }

  async correlations(q: CorrelationQuery): Promise<Correlation[]> {
    const traceId = q.trace_id?.toLowerCase();
    const rows = this.circuitCorrelationsInRange(q, traceId) ?? this.recentCircuitCorrelations(q, traceId) ?? this.correlationRows(q, traceId);
    // Services and traces in name order: the stored order is the order they joined in, which a
    // restart, a merge or a replay in another order changes while the set stays the same. (The
    // engine reads them in that order: it decides which members a full episode keeps.)
    return rows.map(r => {
      const c = toCorrelation(r);
      c.services.sort();
      c.traceIds.sort();
      return c;
    });
  }

  private correlationRows(q: CorrelationQuery, traceId: string | undefined): CorrelationDbRow[] {
    const where = new WhereClause()
      .add('(key, value) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))', this.candidateGroups(q.circuit_id, traceId))
      .add(
        `((key = 'circuit_id' AND value = ?) OR EXISTS (SELECT 1 FROM json_each(correlations.trace_ids) j
           WHERE j.value IN (${CIRCUIT_TRACES})))`,
        q.circuit_id,
        q.circuit_id,
        q.circuit_id,
      );
    correlationFilters(where, q, traceId);
    const sql = `SELECT * FROM correlations ${where} ORDER BY ${CORRELATIONS_NEWEST_FIRST} LIMIT +?`;
    return this.db.prepare(sql).all(...where.args, q.limit) as CorrelationDbRow[];
  }

  /**
   * A circuit's correlations in a range, from the correlations the range reaches: candidateGroups
   * reads every trace the circuit ever had, so a long-lived circuit's last minutes cost its whole
   * history. Null, for the lookup by candidate groups, when the range reaches more correlations
   * than the circuit has traces, or when a correlation's group is not shown to be a candidate by
   * its own traces (only all the circuit's traces can tell then).
   *
   * The answer is the same: it filters on what correlationRows does, with the circuit's traces
   * probed per member instead of read in full, and a correlation taken is in candidateGroups (one
   * of the traces it was checked against names its group). Rows come in the order correlationRows
   * gives, ties included: both order by CORRELATIONS_NEWEST_FIRST (list-order.ts).
   */
  private circuitCorrelationsInRange(q: CorrelationQuery, traceId: string | undefined): CorrelationDbRow[] | null {
    if (q.circuit_id === undefined || q.fromMs === undefined) return null;
    const circuitId = q.circuit_id;
    const traces = (this.st.circuitById.get(circuitId) as CircuitRow | undefined)?.trace_count ?? 0;
    // Its cost is a probe per member the range's correlations list, the other's a read of each of
    // the circuit's traces: counting correlations alone chose it for a range of many other
    // circuits' large correlations, which took up to 16 times as long.
    if ((this.st.membersEndingFrom.get(q.fromMs, traces) as number) >= traces) return null;
    const where = new WhereClause().add(CORRELATION_OF_CIRCUIT, circuitId, circuitId, circuitId);
    correlationFilters(where, q, traceId);
    const sql = `SELECT * FROM correlations ${where} ORDER BY ${CORRELATIONS_NEWEST_FIRST}`;
    const found: CorrelationDbRow[] = [];
    for (const row of this.db.prepare(sql).iterate(...where.args) as IterableIterator<CorrelationDbRow & { rid: number }>) {
      if (found.length === q.limit) break;
      if (!this.isCandidateGroup(row, circuitId, traceId)) return null;
      found.push(row);
    }
    return found;
  }

  /**
   * A circuit's correlations with no start to their range (the detail's), walked newest first as
   * circuitCorrelationsInRange walks a range's, to the limit: candidateGroups reads every trace the
   * circuit ever had, 300-460 ms for one of 40,000 to list its last 500 correlations. Null, for the
   * lookup by candidate groups, when a correlation's group is not shown to be a candidate (as
   * there), or once the walk has probed as many member traces as the circuit has traces: that
   * lookup's cost, which a circuit whose correlations are old among many others' can reach.
   */
  private recentCircuitCorrelations(q: CorrelationQuery, traceId: string | undefined): CorrelationDbRow[] | null {
    if (q.circuit_id === undefined || q.fromMs !== undefined) return null;
    const circuitId = q.circuit_id;
    const traces = (this.st.circuitById.get(circuitId) as CircuitRow | undefined)?.trace_count ?? 0;
    const where = new WhereClause();
    correlationFilters(where, q, traceId);
    // Each row passing the other filters, with its member count and whether it is the circuit's:
    // rows that are not count toward the probes too.
    const sql = `SELECT rid, json_array_length(trace_ids), ${CORRELATION_OF_CIRCUIT} FROM correlations ${where}
      ORDER BY ${CORRELATIONS_NEWEST_FIRST}`;
    const walk = this.db.prepare(sql).raw().iterate(circuitId, circuitId, circuitId, ...where.args) as IterableIterator<[number, number, number]>;
    const found: CorrelationDbRow[] = [];
    let probed = 0;
    for (const [rid, members, ofCircuit] of walk) {
      if (found.length === q.limit) break;
      probed += members;
      if (probed > traces) return null;
      if (!ofCircuit) continue;
      const row = this.st.correlationByRid.get(rid) as CorrelationDbRow & { rid: number };
      if (!this.isCandidateGroup(row, circuitId, traceId)) return null;
      found.push(row);
    }
    return found;
  }

  /**
   * Whether candidateGroups holds the row's group, found from the circuit's traces among its
   * members (or the trace asked about): their groups are a subset of candidateGroups', and the
   * row is matched against them by the same SQL. False means "not shown", not "not held".
   */
  private isCandidateGroup(row: CorrelationDbRow & { rid: number }, circuitId: string, traceId: string | undefined): boolean {
    if (row.key === 'circuit_id' && row.value === circuitId) return true;
    const inGroups = (traceIds: string[]): boolean => {
      const groups = groupsOfTraces(this.st.keysOfTraces.all(JSON.stringify(traceIds)) as KeysOfTrace[]);
      return this.st.correlationInGroups.get(row.rid, JSON.stringify(groups)) !== undefined;
    };
    if (traceId !== undefined && inGroups([traceId])) return true;
    for (const member of JSON.parse(row.trace_ids) as unknown[]) {
      if (typeof member !== 'string') continue;
      const ofCircuit =
        this.st.memberRow.get('circuit_id', circuitId, member) !== undefined ||
        this.st.refusedRow.get('circuit_id', circuitId, member) !== undefined;
      if (ofCircuit && inGroups([member])) return true;
    }
    return false;
  }

  /**
   * The (key, value) groups a correlation of this circuit or trace can belong to: every key of its
   * traces, and the traces themselves. Looking these up by index keeps a circuit's or a trace's
   * correlations from scanning every correlation's member list. Undefined without either filter.
   */
  private candidateGroups(circuitId: string | undefined, traceId: string | undefined): string | undefined {
    if (circuitId === undefined && traceId === undefined) return undefined;
    const traceIds = circuitId !== undefined ? this.circuitTraceIdsNow(circuitId) : [];
    if (traceId !== undefined) traceIds.push(traceId);
    const pairs: [string, string][] = circuitId !== undefined ? [['circuit_id', circuitId]] : [];
    return JSON.stringify(groupsOfTraces(this.st.keysOfTraces.all(JSON.stringify(traceIds)) as KeysOfTrace[], pairs));
  }

  async links(traceId: string): Promise<{ out: TraceLink[]; in: TraceLink[] }> {
    const map = (r: LinkDbRow): TraceLink => ({
      sourceTraceId: r.source_trace_id,
      sourceSpanId: r.source_span_id,
      targetTraceId: r.target_trace_id,
      targetSpanId: r.target_span_id,
      origin: r.origin as TraceLink['origin'],
    });
    const out = this.st.linksFrom.all(traceId, traceId) as LinkDbRow[];
    const inn = this.st.linksTo.all(traceId, traceId) as LinkDbRow[];
    return { out: out.map(map), in: inn.map(map) };
  }

  async logs(q: {
    circuit_id?: string;
    trace_id?: string;
    service?: string;
    search?: string;
    minSeverity?: number;
    fromMs?: number;
    toMs?: number;
    fromNs?: bigint;
    toNs?: bigint;
    direction?: 'backward' | 'forward';
    after?: LogPosition;
    limit: number;
  }): Promise<ListedLog[]> {
    const forward = q.direction === 'forward';
    // What a line holds, and where it is in the list: the walk for a circuit's traced lines seeks
    // by the second and tests the first on each line it reads (circuitTracedLogIds).
    const filters = new WhereClause()
      // Word for word the partial index's condition, as SQLite needs to use it (schema.ts): without
      // it a trace's lines were found by walking every line by time.
      .add("trace_id = ? AND trace_id != ''", q.trace_id?.toLowerCase())
      .add('service = ?', q.service)
      .contains('body', q.search)
      // Rows stored before the decoder filled the number from the text have 0 and a name.
      .add(
        `(severity_number >= ? OR (severity_number = 0 AND ${SEVERITY_OF_TEXT_FUNCTION}(severity_text) >= ?))`,
        q.minSeverity,
        q.minSeverity,
      );
    const bounds = new WhereClause()
      .overlaps('time_ms', 'time_ms', q.fromMs, q.toMs)
      // time_ms is rounded to the microsecond, so a line is still in a range that starts a few
      // nanoseconds after it: the indexed microsecond bound narrows, the stored text decides.
      .add('CAST(time_unix_nano AS INTEGER) >= ?', withinInt64(q.fromNs))
      .add('CAST(time_unix_nano AS INTEGER) <= ?', withinInt64(q.toNs));
    if (q.after) {
      const { timeMs, timeUnixNano, dedupe } = q.after;
      // Past the position in the list's order (list-order.ts). The bare bound on time_ms is what
      // an index can seek by; the rest decides within its microsecond.
      const [past, pastHash] = forward ? ['>', '<'] : ['<', '>'];
      bounds.add(`time_ms ${past}= ?`, timeMs).add(
        `(time_ms ${past} ? OR (time_ms = ? AND (CAST(time_unix_nano AS INTEGER) ${past} CAST(? AS INTEGER) OR ` +
          `(CAST(time_unix_nano AS INTEGER) = CAST(? AS INTEGER) AND dedupe ${pastHash} ?))))`,
        timeMs,
        timeMs,
        timeUnixNano,
        timeUnixNano,
        dedupe,
      );
    }
    const where = filters.and(bounds);
    const order = forward ? LOGS_OLDEST_FIRST : LOGS_NEWEST_FIRST;
    let sql = `SELECT * FROM logs ${where} ORDER BY ${order} LIMIT +?`;
    let args = [...where.args, q.limit];
    if (q.circuit_id !== undefined && q.circuit_id !== '') {
      // A log is a circuit's by its own key, by a further circuit it names (log_circuits), or
      // through a trace of the circuit. As one OR, every line of the circuit was read and sorted
      // to list the newest `limit`: 200–270 ms for a circuit of 100,000 lines. Each way is now
      // its own query, cut at the limit in the list's order (by its key's index, the first walks
      // no further than it needs), and their union cut again: the same first `limit`.
      const c = q.circuit_id;
      const and = where.andConditions();
      const ways: [string, unknown[]][] = [
        ['circuit_id = ?', [c]],
        ['id IN (SELECT log_id FROM log_circuits WHERE circuit_id = ?)', [c]],
      ];
      const traced = this.circuitTracedLogIds(c, filters, bounds, order, q.limit);
      sql =
        `SELECT * FROM (${ways.map(([w]) => `SELECT * FROM (SELECT * FROM logs WHERE ${w}${and} ORDER BY ${order} LIMIT +?)`).join(' UNION ')} ` +
        `UNION SELECT * FROM logs WHERE id IN (SELECT value FROM json_each(?))) ORDER BY ${order} LIMIT +?`;
      args = [...ways.flatMap(([, a]) => [...a, ...where.args, q.limit]), JSON.stringify(traced), q.limit];
    }
    const rows = this.db.prepare(sql).all(...args) as LogDbRow[];
    return rows.map(r => {
      const res = this.resource(r.resource_id);
      return {
        id: String(r.id),
        timeUnixNano: r.time_unix_nano,
        timeMs: r.time_ms,
        // A sender often gives only one of the two (severity.ts).
        ...completeSeverity(r.severity_number, r.severity_text),
        body: r.body,
        serviceName: r.service,
        traceId: r.trace_id,
        spanId: r.span_id,
        keys: JSON.parse(r.keys) as LogEntry['keys'],
        attributes: JSON.parse(r.attributes) as LogEntry['attributes'],
        resource: resourceAttributesOf(res),
        source: r.source as LogEntry['source'],
        position: { timeMs: r.time_ms, timeUnixNano: r.time_unix_nano, dedupe: r.dedupe },
      };
    });
  }

  /**
   * The ids of the first `limit` lines, in `order`, that are the circuit's through a trace of it
   * and pass `filters` within `bounds`. No index holds them in that order: read all and sorted, a
   * page of a circuit of 80,000 such lines took 70–130 ms. When they are more than a budget
   * (counted from the trace index alone), the list's order is walked instead over every line
   * within the bounds (by time's index), keeping the circuit's that pass the filters: a circuit
   * whose lines are a fair share of their time's is done within a few pages' worth. The filters
   * are tested on each line read, not in the walk's WHERE: there a filter few lines pass made the
   * walk read the whole store to find its budget's worth (RV16). A walk of an unfiltered page that
   * gives up among other circuits' lines is tried once more from the newest datum of the circuit's
   * traces (their oldest, forward): a circuit of last week under this week's lines was read whole
   * for every page (POLLED, 123 ms p50 then, 72 after). Every traced line is within its trace's
   * extent (the engine widens a trace's first_ms and last_ms by each of its lines, observeLog, and
   * the row only ever widens), so nothing of the circuit is past that start. Only when the walks
   * spend their budget are they all read and sorted, at most twice the budget's more.
   */
  private circuitTracedLogIds(circuitId: string, filters: WhereClause, bounds: WhereClause, order: string, limit: number): number[] {
    // The circuit's trace ids, built once for the page: the count, the walk and the fallback each
    // built the set anew from the membership rows as their `IN`, ~50 ms apiece for a circuit of
    // 200,000 traces (a circuit polled every few seconds for a week).
    this.st.clearPageTraces.run();
    this.st.fillPageTraces.run(circuitId, circuitId);
    try {
      const budget = Math.min(limit * TRACED_WALK_PER_LINE + TRACED_WALK_LEAST, TRACED_WALK_MOST);
      const many =
        this.db
          .prepare(`SELECT count(*) FROM (SELECT 1 FROM logs WHERE trace_id != '' AND trace_id IN (${PAGE_TRACES}) LIMIT +?)`)
          .pluck()
          .get(budget) === budget;
      const walked = many ? this.walkedTracedLogIds(filters, bounds, order, limit, budget) : null;
      if (Array.isArray(walked)) return walked;
      // A filter few lines pass would have the second walk give up as the first did.
      if (walked && filters.args.length === 0) {
        const again = this.walkFromCircuitExtent(filters, bounds, order, limit, budget, walked.gaveUpAtMs);
        if (again) return again;
      }
      return this.db
        .prepare(`SELECT id FROM logs WHERE trace_id != '' AND trace_id IN (${PAGE_TRACES})${filters.and(bounds).andConditions()} ORDER BY ${order} LIMIT +?`)
        .pluck()
        .all(...filters.args, ...bounds.args, limit) as number[];
    } finally {
      // Not kept past the page (their pages are: prepare()).
      this.st.clearPageTraces.run();
    }
  }

  /**
   * circuitTracedLogIds' second walk, from the page traces' newest datum (oldest, forward); null
   * when that start is not past where the first gave up, or this walk gives up too.
   */
  private walkFromCircuitExtent(
    filters: WhereClause,
    bounds: WhereClause,
    order: string,
    limit: number,
    budget: number,
    gaveUpAtMs: number,
  ): number[] | null {
    const forward = order === LOGS_OLDEST_FIRST;
    const { first, last } = this.st.pageTracesExtent.get() as { first: number | null; last: number | null };
    const start = forward ? first : last;
    if (start === null || (forward ? start <= gaveUpAtMs : start >= gaveUpAtMs)) return null;
    const from = new WhereClause().add(`time_ms ${forward ? '>=' : '<='} ?`, start);
    const walked = this.walkedTracedLogIds(filters, bounds.and(from), order, limit, budget);
    return Array.isArray(walked) ? walked : null;
  }

  /**
   * circuitTracedLogIds' walk over the lines within the bounds: the ids, or, when it gives up
   * before its budget is spent, the time of the last line it read.
   */
  private walkedTracedLogIds(
    filters: WhereClause,
    bounds: WhereClause,
    order: string,
    limit: number,
    budget: number,
  ): number[] | { gaveUpAtMs: number } {
    const walk = this.db
      .prepare(
        `SELECT id, trace_id != '' AND trace_id IN (${PAGE_TRACES})${filters.andConditions()}, time_ms FROM logs ${bounds} ORDER BY ${order} LIMIT +?`,
      )
      .raw();
    const ids: number[] = [];
    let walked = 0;
    let lastMs = NaN;
    // A walk that, a quarter of the way, has found less than a quarter of what it needs would most
    // likely spend its budget: reading them all costs less from here (a search few lines pass).
    const check = Math.floor(budget / 4);
    for (const [id, ours, timeMs] of walk.iterate(...filters.args, ...bounds.args, budget) as IterableIterator<[number, number, number]>) {
      walked++;
      lastMs = timeMs;
      if (ours && ids.push(id) === limit) return ids;
      if (walked === check && ids.length * 4 < limit) return { gaveUpAtMs: lastMs };
    }
    return walked < budget ? ids : { gaveUpAtMs: lastMs };
  }

  async serviceCallsOf(traceIds: readonly string[]): Promise<ServiceCall[]> {
    const metas = this.chunkMetasByTrace(traceIds);
    const calls: ServiceCall[] = [];
    // Straight from the records, and only the client and server spans: a view's circuit has
    // thousands of spans, and a call needs two of them.
    for (const id of traceIds) {
      const spans: TimedSpan[] = [];
      for (const meta of metas.get(id) ?? [])
        for (let i = 0, n = chunkRecord.count(meta); i < n; i++) {
          const kind = chunkRecord.kind(meta, i);
          if (kind !== SPAN_KIND_CLIENT && kind !== SPAN_KIND_SERVER) continue;
          spans.push({
            spanId: chunkRecord.spanId(meta, i),
            parentSpanId: chunkRecord.parentSpanId(meta, i),
            service: this.resource(chunkRecord.resourceId(meta, i)).serviceName,
            kind,
            startMs: chunkRecord.startMs(meta, i),
            endMs: chunkRecord.endMs(meta, i),
          });
        }
      calls.push(...serviceCalls(spans));
    }
    return calls;
  }

  /** A trace's received spans from its chunk records, each with its service. */
  private timedSpans(metas: readonly Buffer[]): (TimedSpan & { statusCode: number })[] {
    return metas.flatMap(readSpanChunkMeta).map(m => ({ ...m, service: this.resource(m.resourceId).serviceName }));
  }

  async services(range: TimeRange): Promise<string[]> {
    // An hour's row stands for data anywhere in it: the range's first hour counts if it ends after `from`.
    return this.st.servicesInHours.all((range.fromMs ?? 0) - SERVICE_HOUR_MS, range.toMs ?? Number.MAX_SAFE_INTEGER) as string[];
  }

  async serviceGraph(q: TimeRange & { circuitId?: string; maxTraces: number }): Promise<ServiceGraph> {
    const fromMs = q.fromMs ?? 0;
    const toMs = q.toMs ?? Number.MAX_SAFE_INTEGER;
    let traceIds: string[];
    let truncated = false;
    // A circuit's traces in the range too: the graph of a time range must not show other times.
    if (q.circuitId)
      traceIds = this.db
        .prepare('SELECT trace_id FROM traces WHERE trace_id IN (SELECT value FROM json_each(?)) AND last_ms >= ? AND first_ms <= ?')
        .pluck()
        .all(JSON.stringify(await this.circuitTraceIds(q.circuitId)), fromMs, toMs) as string[];
    else {
      // One past the cap tells whether the range held more, without counting all of it.
      traceIds = this.db
        .prepare(`SELECT trace_id FROM traces WHERE last_ms >= ? AND first_ms <= ? ORDER BY ${TRACES_NEWEST_FIRST} LIMIT +?`)
        .pluck()
        .all(fromMs, toMs, q.maxTraces + 1) as string[];
      truncated = traceIds.length > q.maxTraces;
      if (truncated) traceIds.length = q.maxTraces;
    }
    const nodes = new Map<string, ServiceNode & { traces: Set<string> }>();
    // Confidences are summed in millionths, integers: a float sum depends on the order of its
    // terms (the order rows arrived in), and so could the rounded mean.
    const edges = new Map<string, ServiceEdge & { confMicros: number }>();
    const node = (service: string) => {
      let n = nodes.get(service);
      if (!n) {
        n = { id: service, title: service, spanCount: 0, errorCount: 0, traceCount: 0, traces: new Set() };
        nodes.set(service, n);
      }
      return n;
    };
    const edge = (source: string, target: string, kind: 'call' | 'bridge' | 'link') => {
      const id = `${source}->${target}${kind === 'call' ? '' : `:${kind}`}`;
      let e = edges.get(id);
      if (!e) {
        const [bridged, linked] = [kind === 'bridge', kind === 'link'];
        e = { id, source, target, callCount: 0, errorCount: 0, bridged, linked, meanConfidence: 1, confMicros: 0 };
        edges.set(id, e);
      }
      return e;
    };
    // Received spans only: calls between services are read from parent links, bridges below.
    const metas = this.chunkMetasByTrace(traceIds);
    const clocks = new ClockSkewEvidence();
    // Failed spans by trace and span id: a bridge's hop failed when the child's entry span did.
    const failed = new Set<string>();
    const traceIdsJson = JSON.stringify(traceIds);
    // The links out of the traces, each once (a row is one link). One into a trace not drawn (not
    // stored, out of range, past the cap, of another circuit) is left out: its span is not read.
    const linkEnds = new LinkEnds(
      this.spanLinksMayExist && traceIds.length > 1 ? (this.st.spanLinksFrom.all(traceIdsJson) as SpanLinkRow[]) : [],
    );
    // A trace whose spans all succeeded fails by its ERROR-or-worse lines, as its circuit counts it
    // (traceErrors): a review (RV12) saw MDSO's failure, reported by a log line, drawn green on
    // every node and edge of a circuit listed as failed. A line counts at the service that logged
    // it, or at the trace's first service when that one drew no span of the trace. Read first, so
    // only the few traces with such lines have their services collected.
    const failedByLogs = new Set<string>();
    const logErrorsOf = new Map<string, { service: string; n: number }[]>();
    const logErrors = this.db
      .prepare(
        'SELECT l.trace_id AS trace_id, l.service AS service, count(*) AS n FROM logs l JOIN traces t ON t.trace_id = l.trace_id ' +
          // The partial index's condition, word for word: without it every line was read.
          `WHERE l.trace_id != '' AND l.trace_id IN (SELECT value FROM json_each(?)) AND t.error_count = 0 AND l.severity_number >= ${SEVERITY_ERROR} GROUP BY l.trace_id, l.service`,
      )
      .all(traceIdsJson) as { trace_id: string; service: string; n: number }[];
    for (const r of logErrors) {
      const lines = logErrorsOf.get(r.trace_id);
      if (lines) lines.push(r);
      else logErrorsOf.set(r.trace_id, [r]);
    }
    for (const traceId of traceIds) {
      const spans = this.timedSpans(metas.get(traceId) ?? []);
      for (const c of serviceCalls(spans)) clocks.add(c);
      const byId = new Map(spans.map(s => [s.spanId, s]));
      const linkEndsHere = linkEnds.of(traceId);
      const lines = spans.length > 0 ? logErrorsOf.get(traceId) : undefined;
      if (lines) {
        const services = new Set(spans.map(s => s.service));
        failedByLogs.add(traceId);
        for (const r of lines) node(services.has(r.service) ? r.service : spans[0]!.service).errorCount += r.n;
      }
      for (const s of spans) {
        const n = node(s.service);
        n.spanCount++;
        if (s.statusCode === 2) {
          n.errorCount++;
          failed.add(`${traceId}:${s.spanId}`);
        }
        n.traces.add(traceId);
        if (linkEndsHere) noteLinkEnd(linkEndsHere, s.spanId, s.service, s.statusCode === 2);
        const p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
        if (p && p.service !== s.service) {
          const e = edge(p.service, s.service, 'call');
          e.callCount++;
          e.confMicros += 1_000_000;
          if (s.statusCode === 2) e.errorCount++;
        }
      }
    }
    // The bridges from those traces, chosen as the traces are (by the child's start, one that
    // began before `from` was left out while both its traces were drawn), and as the detail and
    // the stitched view choose theirs: the bridges into them from traces outside drew a caller
    // with no trace in the range, and one bridged call more than those show.
    const fromTraces = this.st.bridgesOfTraces.all(traceIdsJson) as BridgeDbRow[];
    // A circuit's graph counts its own rows; the graph of a range counts each hop once.
    const bridgeRows = q.circuitId ? fromTraces.filter(b => b.key === 'circuit_id' && b.value === q.circuitId) : oneRowPerHop(fromTraces);
    for (const b of bridgeRows) {
      node(b.parent_service);
      node(b.child_service);
      // An edge that trace context already shows is one edge, not marked bridged (bridged means
      // known only through bridges); its bridges add to its calls and its mean confidence.
      const e = edges.get(`${b.parent_service}->${b.child_service}`) ?? edge(b.parent_service, b.child_service, 'bridge');
      e.callCount++;
      e.confMicros += Math.round(b.confidence * 1_000_000);
      // As a trace-context call counts its callee's failure (a child trace outside the graph's
      // traces is not read, and counts none).
      if (failed.has(`${b.child_trace_id}:${b.child_span_id}`) || failedByLogs.has(b.child_trace_id)) e.errorCount++;
    }
    // An edge of its own even between services that call each other: a link says the traces are
    // related, not that one service called the other. Stated by the sender, as trace context is, so
    // each counts 1 to the confidence; the linking span stands for the callee, and its failure counts.
    for (const hop of linkEnds.hops()) {
      const e = edge(hop.source, hop.target, 'link');
      e.callCount++;
      e.confMicros += 1_000_000;
      if (hop.failed) e.errorCount++;
    }
    // By id: in the order they were met they followed the order spans were received in.
    return {
      nodes: [...nodes.values()].map(({ traces, ...n }) => ({ ...n, traceCount: traces.size })).sort(byId),
      edges: [...edges.values()].sort(byId).map(({ confMicros, ...e }) => {
        // Only the edge's own calls: an offset through other services is no property of the edge.
        const clockOffset = e.bridged || e.linked ? null : clocks.direct(e.source, e.target);
        return {
          ...e,
          meanConfidence: e.callCount > 0 ? Math.round(confMicros / e.callCount / 1000) / 1000 : 1,
          ...(clockOffset ? { clockOffset } : {}),
        };
      }),
      traceCount: traceIds.length,
      traceLimit: q.maxTraces,
      truncated,
    };
  }

  // ---- maintenance ------------------------------------------------------------------------------

  /**
   * The whole sweep at once (pruneStepwise for a caller that yields), with all it touched: the
   * stepwise caller forgets each slice's as it goes, and kept whole for it they were every id of a
   * large backlog held for nothing.
   */
  prune(cutoffMs: number): PruneResult {
    const touched: TouchedState = { traceIds: [], groupKeys: [] };
    const steps = this.pruneStepwise(cutoffMs);
    for (;;) {
      const step = steps.next();
      if (step.done) return { ...step.value, touched };
      for (const id of step.value.traceIds) touched.traceIds.push(id);
      for (const key of step.value.groupKeys) touched.groupKeys.push(key);
    }
  }

  /**
   * Each slice waits for the batches in flight to commit: one planned before the slice, from hot
   * state that still held a trace the slice deletes, wrote the trace back into its correlations
   * after the slice had recounted them (and no later slice would: the trace was gone). Hot state
   * forgets the slice's traces before anything else is planned (the caller does, in the same turn).
   */
  *pruneStepwise(cutoffMs: number, pacing?: Partial<SweepPacing>): Generator<TouchedState, PruneCounts> {
    const result = yield* pruneInSlices(this.db, cutoffMs, pacing, () => {
      if (this.inFlight.size > 0) this.sink.drain();
    });
    this.deleteUnreferencedSegments();
    return result;
  }

  replansPending(): ThinnedEpisode[] {
    return replansPending(this.db);
  }

  replansDone(): void {
    replansDone(this.db);
  }

  /** Segment files whose spans retention has deleted go too (span-body-files.ts says which may). */
  private deleteUnreferencedSegments(): void {
    // Files are deleted by path: in a DATA_DIR replaced under the store, they are another store's.
    if (this.dataDirWatch?.check()) return;
    this.spans?.reader.deleteUnreferenced(segment => this.st.segmentReferenced.get(segment) !== undefined);
  }

  ping(): boolean {
    return this.db.prepare('SELECT 1').pluck().get() === 1;
  }

  writeTrouble(): string | null {
    const lost = this.dataDirWatch?.check();
    if (lost) return lost;
    if (this.storageFailure === null) return null;
    // Nothing may be ingested while not ready, so the next success would never come: a small
    // write that needs a new page and a commit tells whether the storage takes writes again.
    try {
      probeWrite(this.db, this.spans?.dir ?? null);
      if (this.walInHeap) this.shareWalAgain();
      this.setStorageFailure(null);
      return null;
    } catch (e) {
      return `writes fail: ${this.storageFailure}${(e as { code?: string }).code ? ` (still: ${(e as { code?: string }).code})` : ''}`;
    }
  }

  async close(): Promise<void> {
    // The writer stops after the batches handed to it: every request it holds is answered first.
    await this.sink.close();
    if (this.writeProbe) clearInterval(this.writeProbe);
    this.dataDirWatch?.stop();
    await this.checkpointer?.stop();
    this.spans?.reader.close();
    if (this.db.open) this.db.close();
    this.lock?.release();
  }
}

/** id, body, body_segment, body_offset, body_length. */
type ChunkBodyRow = [number, Buffer, number, number, number];

interface LinkDbRow {
  source_trace_id: string;
  source_span_id: string;
  target_trace_id: string;
  target_span_id: string;
  origin: string;
}

interface LogDbRow {
  id: number;
  dedupe: string;
  time_ms: number;
  time_unix_nano: string;
  severity_number: number;
  severity_text: string;
  body: string;
  service: string;
  trace_id: string;
  span_id: string;
  keys: string;
  attributes: string;
  resource_id: number;
  source: string;
}

interface LooseLogsRow {
  count: number;
  first_ms: number;
  last_ms: number;
  services: string;
}

function looseLogSpan(r: LooseLogsRow): LooseLogSpan | null {
  return r.count === 0 ? null : { count: r.count, firstMs: r.first_ms, lastMs: r.last_ms, services: JSON.parse(r.services) as string[] };
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** A span's record: its chunk's meta and its index there. */
type StoredRecord = readonly [meta: Buffer, index: number];

/** The records of a trace's stored chunks by span id. */
function storedRecords(metas: readonly Buffer[]): Map<string, StoredRecord> {
  const records = new Map<string, StoredRecord>();
  for (const meta of metas) for (let i = 0, n = chunkRecord.count(meta); i < n; i++) records.set(chunkRecord.spanId(meta, i), [meta, i]);
  return records;
}

/**
 * Whether `s` has another parent, times, kind or status than its stored record says. A stored end
 * at its start may be an end that was over FUTURE_TOLERANCE_MS ahead of the clock when its chunk
 * arrived (`receivedMs`), so unknown then (item-times.ts, isKnownEnd), and known at a replay hours
 * later: the same span, not another. A span whose end could have been known then is another.
 */
function differsFromRecord(s: DecodedSpan, [meta, i]: StoredRecord, receivedMs: number): boolean {
  const storedStart = chunkRecord.startMs(meta, i);
  const storedEnd = chunkRecord.endMs(meta, i);
  const endThenUnknown = storedEnd === storedStart && !isKnownEnd(s.startMs, s.endMs, receivedMs);
  return (
    chunkRecord.parentSpanId(meta, i) !== s.parentSpanId ||
    storedStart !== s.startMs ||
    (storedEnd !== s.endMs && !endThenUnknown) ||
    chunkRecord.kind(meta, i) !== s.kind ||
    chunkRecord.statusCode(meta, i) !== s.statusCode
  );
}

/** One page's circuit trace ids (circuitTracedLogIds), in the connection's own temp schema. */
const PAGE_TRACES_TABLE = 'temp.page_circuit_traces';
const PAGE_TRACES = `SELECT trace_id FROM ${PAGE_TRACES_TABLE}`;
/**
 * Lines walked in the list's order for a circuit's traced lines before they are all read instead:
 * per line asked, at least and at most. A walked line costs two to three times what a read one does.
 */
const TRACED_WALK_PER_LINE = 8;
const TRACED_WALK_LEAST = 2000;
/** What a walk that fails may add to reading them all, ~60 ms, at the greatest limits. */
const TRACED_WALK_MOST = 20_000;

/**
 * A nanosecond bound SQLite can bind: `to=9999999999` (a far future in seconds) is past int64's
 * 2262, and binding it threw (a 500). Every stored time is within, so clamping changes no answer.
 */
function withinInt64(ns: bigint | undefined): bigint | undefined {
  if (ns === undefined) return undefined;
  return ns > INT64_MAX ? INT64_MAX : ns < INT64_MIN ? INT64_MIN : ns;
}

/**
 * A correlation of the circuit (binds its id three times): of its own group, or with a member among
 * its traces, each member probed for the circuit's rows.
 */
const CORRELATION_OF_CIRCUIT = `((key = 'circuit_id' AND value = ?) OR EXISTS (SELECT 1 FROM json_each(correlations.trace_ids) j
  WHERE EXISTS (${keyValueTraceRows(`'circuit_id'`, '?', '1', 'AND trace_id = j.value')})))`;

/** The filters of a correlation query other than its circuit, in the order the query was written. */
function correlationFilters(where: WhereClause, q: CorrelationQuery, traceId: string | undefined): void {
  where
    .add('EXISTS (SELECT 1 FROM json_each(correlations.trace_ids) WHERE value = ?)', traceId)
    .add('EXISTS (SELECT 1 FROM json_each(correlations.services) WHERE value = ?)', q.service)
    .add('method = ?', q.method)
    // An episode of logs of no trace alone is stored for its span, and is no correlation yet.
    .add(`trace_ids != '[]'`)
    .overlaps('first_ms', 'last_ms', q.fromMs, q.toMs);
}

type KeysOfTrace = Pick<TraceRow, 'trace_id' | 'keys' | 'more_keys' | 'log_count'>;

/** The groups the traces can be members of, after and without those in `pairs`, which it extends. */
function groupsOfTraces(rows: KeysOfTrace[], pairs: [string, string][] = []): [string, string][] {
  // Each pair once: a circuit's traces mostly share their keys, and the query probes each pair.
  const seen = new Set<string>(pairs.map(([key, value]) => `${key}\u0000${value}`));
  const add = (key: string, value: string): void => {
    const k = `${key}\u0000${value}`;
    if (seen.has(k)) return;
    seen.add(k);
    pairs.push([key, value]);
  };
  for (const row of rows) {
    // A trace's own correlation joins its spans and its logs: none without logs (engine.ts, finish).
    if (row.log_count > 0) pairs.push(['trace_id', row.trace_id]);
    forEachKeyValue(traceKeyValuesOf(row.keys, row.more_keys), add);
  }
  return pairs;
}

/**
 * Why a store just opened has no room for writes (a full disk, a quota), or null when a write
 * succeeds. Any other failure of the write is thrown: a read-only file or mount is refused at
 * start as before, since no room made later would end it.
 */
function noRoomAtOpen(db: Database.Database, spanDir: string | null): string | null {
  try {
    probeWrite(db, spanDir);
    return null;
  } catch (e) {
    if (!noRoom(e)) throw e;
    return storageFailure(e);
  }
}
