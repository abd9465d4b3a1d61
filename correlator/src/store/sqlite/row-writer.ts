// The rows one ingest request writes, applied in one transaction. Nothing here decides anything:
// which spans are fresh, the ids of chunks and resources, what correlation derives and which bridges
// go to the export queue are settled before, on the main thread. That is what lets the same
// writes run in the writer thread (writer-thread.ts) on its own connection, or in line.
import type Database from 'better-sqlite3';
import type { CircuitDelta, DerivedWrites, MembershipRow } from '../derived-writes.js';
import type { CircuitRow } from './rows.js';
import type { ChunkBounds } from './span-chunk.js';
import { groupMapKey } from '../../correlation/types.js';
import { keepLeastKeys } from '../../correlation/circuit-keys.js';
import type { KeyValues } from '../../otlp/decoded.js';
import { bridgeTraceKeys } from '../../stitching/bridge-keys.js';
import { traceKeyValuesOf, type TraceKeyValues } from '../trace-key-values.js';
import type { SpanBodyAppender } from './span-body-files.js';
import { ServiceHourSet } from '../service-hours.js';
import { addService } from '../../correlation/service-list.js';
import { ClaimedLogs } from './claimed-logs.js';

export interface ResourceRow {
  id: number;
  hash: string;
  service: string;
  scopeName: string;
  scopeVersion: string;
  body: Uint8Array;
}

/** A span chunk row; its meta and body are ranges of the batch's `chunkMeta` and `chunkBody`. */
export interface ChunkRow extends ChunkBounds {
  id: number;
  traceId: string;
  count: number;
}

/** A log record's columns, in the order of the logs table after its id. */
export type LogRow = [
  dedupe: string,
  timeMs: number,
  timeUnixNano: string,
  severityNumber: number,
  severityText: string,
  body: string,
  service: string,
  traceId: string,
  spanId: string,
  circuitId: string | null,
  keys: string,
  attributes: string,
  resourceId: number,
  source: string,
];

export interface RowBatch {
  receivedMs: number;
  /** Resources first seen by this request, with the ids the main thread gave them. */
  resources: ResourceRow[];
  chunks: ChunkRow[];
  /** The meta records of every chunk, back to back (span-chunk.ts `encodeSpanChunks`). */
  chunkMeta: Uint8Array;
  /** The span bytes of every chunk, back to back. */
  chunkBody: Uint8Array;
  /** Log records not already stored. */
  logs: LogRow[];
  /**
   * Of the logs that name several circuits, `logs[log]`'s circuits besides its circuit_id
   * (log-circuits.ts); absent when none does, as nearly always.
   */
  moreLogCircuits?: { log: number; circuitIds: string[] }[];
  derived: DerivedWrites | null;
  /** The resource id bridge spans are stored with (0 when the batch adds none). */
  bridgeResourceId: number;
  /**
   * `heldRefs`: those of `refs` whose bridges are not settled (BridgeRow.settled), due at
   * `heldDueMs` unless their roots come sooner. `maxDepth`: EXPORT_QUEUE_MAX, which bridges sent
   * again must respect too.
   */
  exports: {
    refs: string[];
    dueMs: number;
    heldRefs: string[];
    heldDueMs: number;
    dropOldest: number;
    maxDepth: number;
  } | null;
}

export interface RowWriteResult {
  /** Export-queue entries removed with the bridges this batch superseded. */
  dequeued: number;
  /**
   * Export-queue entries added: the batch's refs of hops that had no bridge row before it, the
   * bridges of traces that gained a key (TraceUpsert.keysGained), and hops another group took on.
   */
  enqueued: number;
  /** Oldest export-queue entries dropped to keep the queue within its bound. */
  dropped: number;
}

const NO_HOPS: ReadonlySet<string> = new Set();
const NO_KEYS_BEFORE: ReadonlyMap<number, TraceKeyValues> = new Map();
const NO_TRACE_KEYS: TraceKeyValues = { keys: {}, moreKeys: [] };
/** The body of a chunk whose bytes are in a segment file: the column is NOT NULL since version 1. */
const IN_SEGMENT = Buffer.alloc(0);

/** better-sqlite3 binds Buffers; a Uint8Array that crossed a thread is re-viewed, not copied. */
function range(b: Uint8Array, start = 0, end = b.byteLength): Buffer {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start);
}

export class RowWriter {
  private readonly st: ReturnType<typeof prepareWrites>;
  private readonly claimedLogs: ClaimedLogs;
  /**
   * Whether refused_traces may hold a row: until it does, a new membership asks nothing of it. One
   * writer writes at a time, and a writer made later reads what earlier ones wrote.
   */
  private refusalsMayExist: boolean;

  /** `bodies`: where chunks' span bytes go; without it (a store in memory) they stay in the rows. */
  constructor(
    db: Database.Database,
    private readonly bodies: SpanBodyAppender | null = null,
  ) {
    this.st = prepareWrites(db);
    this.claimedLogs = new ClaimedLogs(db);
    this.refusalsMayExist = this.st.anyRefusal.get() !== undefined;
  }

  /** Call before each transaction that applies batches (span-body-files.ts says why not inside). */
  beforeTransaction(): void {
    this.bodies?.beforeTransaction();
  }

  close(): void {
    this.bodies?.close();
  }

  /** Call inside a transaction: the rows of one request are stored together or not at all. */
  apply(batch: RowBatch): RowWriteResult {
    const st = this.st;
    for (const r of batch.resources)
      st.insertResource.run(r.id, r.hash, r.service, r.scopeName, r.scopeVersion, range(r.body));
    for (const l of batch.logs) st.insertLog.run(...l, batch.receivedMs);
    this.markLogServiceHours(batch.logs);
    if (batch.moreLogCircuits) this.fileMoreLogCircuits(batch.logs, batch.moreLogCircuits);
    // Trace rows first: a chunk is filed under its trace's row id (schema.ts, version 4).
    const traceRows = new Map<string, number>();
    const { dequeued, newHops, rekeyedTraceRows, regroupedHops } = batch.derived
      ? this.applyDerived(batch.derived, batch.receivedMs, batch.bridgeResourceId, traceRows)
      : { dequeued: 0, newHops: NO_HOPS, rekeyedTraceRows: NO_KEYS_BEFORE, regroupedHops: NO_HOPS };
    // The request's span bytes in one write, before the rows that say where they are commit.
    const place = this.bodies && batch.chunks.length > 0 ? this.bodies.append(batch.chunkBody) : null;
    for (const c of batch.chunks) {
      const meta = range(batch.chunkMeta, c.metaStart, c.metaEnd);
      const ref = this.traceRowOf(c.traceId, batch.receivedMs, traceRows);
      if (place) {
        const at = place.offset + c.bodyStart;
        st.insertChunkInSegment.run(c.id, c.traceId, ref, batch.receivedMs, c.count, meta, IN_SEGMENT, place.segment, at, c.bodyEnd - c.bodyStart);
      } else {
        const body = range(batch.chunkBody, c.bodyStart, c.bodyEnd);
        st.insertChunk.run(c.id, c.traceId, ref, batch.receivedMs, c.count, meta, body);
      }
    }
    let dropped = 0;
    let enqueued = 0;
    if (batch.exports) {
      const now = Date.now();
      const { dueMs, heldDueMs } = batch.exports;
      const held = batch.exports.heldRefs.length > 0 ? new Set(batch.exports.heldRefs) : NO_HOPS;
      // A hop's span is sent once, whichever groups plan it and however often they plan it again.
      for (const ref of batch.exports.refs)
        if (newHops.has(ref)) enqueued += st.enqueue.run(ref, held.has(ref) ? heldDueMs : dueMs, now).changes;
      // A root the batch brought settles the bridges that waited for it whose other end has its
      // root too: due as if planned settled now. Never-tried entries only: a retry keeps its backoff.
      for (const t of batch.derived?.traces ?? [])
        if (t.entryBecameRoot) {
          const row = traceRows.get(t.traceId)!;
          st.dueOnceSettled.run(dueMs, dueMs, row, row);
        }
      // The bound was applied to every ref planned; those not queued take no room, nor do the
      // entries this batch's superseded bridges took out of the queue.
      const excess = batch.exports.dropOldest - (batch.exports.refs.length - enqueued) - dequeued;
      if (excess > 0) dropped = st.dropOldestExports.run(excess).changes;
      // Tempo keeps one span of an id in a trace it returns, and its search reads every copy: the
      // copy sent again is found by the key, or the group's value, the first lacked. One still
      // queued is due anew, which also tells a send of it in flight that its copy lacks it
      // (SqliteStore.completeExports).
      const resend = new Set(regroupedHops);
      for (const ref of this.rekeyedHops(rekeyedTraceRows)) resend.add(ref);
      let requeued = 0;
      for (const ref of resend)
        if (!newHops.has(ref) && st.dueAnew.run(dueMs, ref).changes === 0)
          requeued += st.enqueue.run(ref, dueMs, now).changes;
      if (requeued > 0) {
        enqueued += requeued;
        // Not counted when the batch was planned: the bound is kept here (rare: a trace gained a key).
        const over = (st.exportQueueCount.get() as number) - batch.exports.maxDepth;
        if (over > 0) dropped += st.dropOldestExports.run(over).changes;
      }
    }
    return { dequeued, enqueued, dropped };
  }

  /**
   * The hops whose span the key values `rekeyed` traces gained change. A bridge span carries every
   * value of its traces' keys (bridgeTraceKeys): a value the other end already names leaves its
   * bytes as they were, and it is not sent again.
   */
  private rekeyedHops(rekeyed: ReadonlyMap<number, TraceKeyValues>): string[] {
    const st = this.st;
    const hops: string[] = [];
    // Each trace row read once: a trace with many bridges is an end of each.
    const read = new Map<number, TraceKeyValues>();
    const keysNow = (row: number) => {
      let keys = read.get(row);
      if (keys === undefined) read.set(row, (keys = this.keysOfRow(st.keysOfTraceRow.get(row))));
      return keys;
    };
    const spanKeys = (parent: TraceKeyValues, child: TraceKeyValues) => JSON.stringify(bridgeTraceKeys(parent, child));
    for (const row of rekeyed.keys())
      for (const [ref, parentRef, childRef] of st.bridgeEndsOfTrace.all(row, row) as [string, number, number][]) {
        const before = spanKeys(rekeyed.get(parentRef) ?? keysNow(parentRef), rekeyed.get(childRef) ?? keysNow(childRef));
        if (before !== spanKeys(keysNow(parentRef), keysNow(childRef))) hops.push(ref);
      }
    return hops;
  }

  /** A trace row's keys as read by keysOfTrace or keysOfTraceRow; none for a trace with no row. */
  private keysOfRow(row: unknown): TraceKeyValues {
    const r = row as { keys: string; more_keys: string } | undefined;
    return r ? traceKeyValuesOf(r.keys, r.more_keys) : NO_TRACE_KEYS;
  }

  /**
   * A trace's row id: written by this batch, read from the store, or, for a trace that has no row
   * (a caller that derives nothing, a bridge end retention removed), a new row that counts no
   * spans, since its chunks and bridges need one to be found by. `traceRows` keeps what it finds.
   */
  private traceRowOf(traceId: string, now: number, traceRows: Map<string, number>): number {
    const id =
      this.existingTraceRow(traceId, traceRows) ??
      (this.st.insertBareTrace.get(traceId, now, now, now) as number);
    // A parent trace from an earlier request usually has several of this request's bridges.
    traceRows.set(traceId, id);
    return id;
  }

  /** The groups whose rows plan a hop, as groupMapKey keys. */
  private groupKeysOfHop(parentRef: number, spanId: string): string[] {
    return (this.st.groupsOfHop.all(parentRef, spanId) as [string, string][]).map(([k, v]) => groupMapKey(k, v));
  }

  /** The trace's row id if this batch wrote it or the store has it. */
  private existingTraceRow(traceId: string, traceRows: Map<string, number>): number | undefined {
    return traceRows.get(traceId) ?? (this.st.traceRowId.get(traceId) as number | undefined);
  }

  /**
   * Each log's further circuits under the row id it got, found by its dedupe key (unique): an
   * INSERT OR IGNORE that found the row gives no id of it.
   */
  /**
   * The hours of the services that sent logs: a trace's logs count among its services already, but
   * a service that only logs (bpocore's failure reports, with a circuit id and no trace) was never
   * listed by GET /api/services while /api/logs?service= answered its lines.
   */
  private markLogServiceHours(logs: readonly LogRow[]): void {
    if (logs.length === 0) return;
    const hours = new ServiceHourSet();
    for (const l of logs) if (l[6] !== '') hours.add(l[1], l[1], JSON.stringify([l[6]]));
    for (const [hour, service, lastMs] of hours.pairs()) this.st.markServiceHour.run(hour, service, lastMs);
  }

  private fileMoreLogCircuits(logs: readonly LogRow[], more: NonNullable<RowBatch['moreLogCircuits']>): void {
    for (const { log, circuitIds } of more) {
      const [dedupe, timeMs] = logs[log]!;
      const id = this.st.logIdOf.get(dedupe) as number;
      for (const c of circuitIds) this.st.insertLogCircuit.run(id, c, timeMs);
    }
  }

  /** Adds the delta to its circuit's row, made if it has none. */
  private addToCircuit(c: CircuitDelta, now: number): void {
    const st = this.st;
    const existing = st.circuitById.get(c.circuitId) as CircuitRow | undefined;
    const services = existing ? (JSON.parse(existing.services) as string[]) : [];
    for (const s of c.services) addService(services, s);
    const keys: KeyValues = existing ? (JSON.parse(existing.keys) as KeyValues) : {};
    keepLeastKeys(keys, c.keys);
    st.upsertCircuit.run(c.circuitId, c.firstMs, c.lastMs, c.spanDelta, c.errorDelta, c.logDelta, JSON.stringify(services), JSON.stringify(keys), now);
  }

  /** Returns how many export-queue entries went with superseded bridges; `traceRows` gets each trace's row id. */
  private applyDerived(
    w: DerivedWrites,
    now: number,
    bridgeResourceId: number,
    traceRows: Map<string, number>,
  ): {
    dequeued: number;
    newHops: ReadonlySet<string>;
    /** The rows of traces that gained a key value, with their keys before the batch. */
    rekeyedTraceRows: ReadonlyMap<number, TraceKeyValues>;
    /** Hops that had a row before the batch and gained or lost a group's value in it. */
    regroupedHops: ReadonlySet<string>;
  } {
    const st = this.st;
    const rekeyedTraceRows = new Map<number, TraceKeyValues>();
    const serviceHours = new ServiceHourSet();
    for (const t of w.traces) {
      const keysBefore = t.keysGained ? this.keysOfRow(st.keysOfTrace.get(t.traceId)) : NO_TRACE_KEYS;
      const firstMs = Number.isFinite(t.firstMs) ? t.firstMs : now;
      const lastMs = Number.isFinite(t.lastMs) ? t.lastMs : now;
      const services = JSON.stringify(t.services);
      serviceHours.add(firstMs, lastMs, services);
      const entry = t.entry ? JSON.stringify(t.entry) : null;
      const keys = JSON.stringify(t.keys);
      const moreKeys = t.moreKeys.length > 0 ? JSON.stringify(t.moreKeys) : '[]';
      const linked = JSON.stringify(t.linkedTraceIds);
      // A new trace (most of a request's) is a plain insert, its row id from the statement's result;
      // one the store has is updated after it, as the upsert did. RETURNING put each statement's row
      // id in an ephemeral table, a b-tree and page cache of its own opened and closed per trace.
      const inserted = st.insertTrace.run(
        t.traceId,
        firstMs,
        lastMs,
        t.spanDelta,
        t.errorDelta,
        t.errorLogDelta,
        t.logDelta,
        services,
        entry,
        keys,
        moreKeys,
        linked,
        now,
        t.spanFirstMs,
        t.spanLastMs,
      );
      const id =
        inserted.changes === 1
          ? (inserted.lastInsertRowid as number)
          : (st.updateTrace.get(
              firstMs,
              lastMs,
              t.spanFirstMs,
              t.spanFirstMs,
              t.spanLastMs,
              t.spanLastMs,
              t.spanDelta,
              t.errorDelta,
              t.errorLogDelta,
              t.logDelta,
              services,
              entry,
              keys,
              moreKeys,
              linked,
              now,
              t.traceId,
            ) as number);
      traceRows.set(t.traceId, id);
      if (t.keysGained) rekeyedTraceRows.set(id, keysBefore);
    }
    // Mostly rows already there: a lookup each, a few per request.
    for (const [hour, service, lastMs] of serviceHours.pairs()) st.markServiceHour.run(hour, service, lastMs);
    for (const c of w.circuits) this.addToCircuit(c, now);
    const newTracesByCircuit = new Map<string, number>();
    const countNewTrace = (circuitId: string): void => {
      newTracesByCircuit.set(circuitId, (newTracesByCircuit.get(circuitId) ?? 0) + 1);
    };
    for (const m of w.memberships) {
      if (st.insertMembership.run(m.key, m.value, m.traceId, m.firstMs, m.lastMs).changes === 1) {
        // A trace a full episode refused and another took since (or after a restart) is listed once.
        const wasRefused = this.refusalsMayExist && st.deleteRefusal.run(m.key, m.value, m.traceId).changes === 1;
        if (m.key === 'circuit_id' && !wasRefused) countNewTrace(m.value);
      } else st.widenMembership.run(m.firstMs, m.lastMs, m.key, m.value, m.traceId);
    }
    /** Files a refused trace; a circuit counts it unless it listed the trace as a member before. */
    const refuse = (r: MembershipRow, wasMember: boolean): void => {
      this.refusalsMayExist = true;
      if (st.insertRefusal.run(r.key, r.value, r.traceId, r.firstMs, r.lastMs).changes === 1) {
        if (r.key === 'circuit_id' && !wasMember) countNewTrace(r.value);
      } else st.widenRefusal.run(r.firstMs, r.lastMs, r.key, r.value, r.traceId);
    };
    for (const r of w.refusals) {
      // A member already (a race with another episode's write): its row spans the trace whole.
      if (st.isMember.get(r.key, r.value, r.traceId) !== undefined) st.widenMembership.run(r.firstMs, r.lastMs, r.key, r.value, r.traceId);
      else refuse(r, false);
    }
    for (const r of w.demotions) refuse(r, st.deleteMembership.run(r.key, r.value, r.traceId).changes === 1);
    for (const [circuitId, n] of newTracesByCircuit) st.bumpCircuitTraces.run(n, circuitId);
    for (const l of w.looseLogs) st.insertLooseLog.run(l.key, l.value, l.timeMs, l.service);
    // After the logs and loose_logs rows they find, and the circuits' own deltas.
    if (w.looseLogClaims.length > 0) for (const c of this.claimedLogs.apply(w.looseLogClaims)) this.addToCircuit(c, now);
    // Before the upserts: a merged episode may take the id of one it absorbed.
    for (const id of w.correlationsRemoved) st.deleteCorrelation.run(id);
    for (const c of w.correlations) {
      // Its ids stored already: only the rest is written. No row (a merge removed it above): whole.
      if (
        c.traceIdsStored &&
        st.updateCorrelationKeepingIds.run(c.confidence, c.firstMs, c.lastMs, JSON.stringify(c.services), c.spanCount, c.logCount, now, c.id)
          .changes > 0
      )
        continue;
      st.upsertCorrelation.run(
        c.id,
        c.method,
        c.key,
        c.value,
        c.confidence,
        c.firstMs,
        c.lastMs,
        JSON.stringify(c.traceIds),
        JSON.stringify(c.services),
        c.spanCount,
        c.logCount,
        now,
        now,
      );
    }
    let dequeued = 0;
    // One update per circuit for the batch, as for its trace count: a statement per bridge took
    // ~200 ns of writer time per span (a bridge every dozen spans).
    const bridgeDeltas = new Map<string, number>();
    const countBridge = (circuitId: string, delta: number): void => {
      bridgeDeltas.set(circuitId, (bridgeDeltas.get(circuitId) ?? 0) + delta);
    };
    // The export queue holds a hop from its first row to its last (one row per hop and group):
    // the groups each hop the batch adds to had before it, asked before its removals run.
    const groupsBefore = new Map<string, string[]>();
    for (const b of w.bridgesAdded) {
      const ref = `${b.traceId}:${b.spanId}`;
      if (!groupsBefore.has(ref))
        groupsBefore.set(
          ref,
          this.groupKeysOfHop(this.traceRowOf(b.traceId, now, traceRows), b.spanId),
        );
    }
    // Hops that lose a group's row, with the groups they had: if another group keeps one, its span changes.
    const lostGroups = new Map<string, { parentRef: number; spanId: string; before: string[] }>();
    for (const b of w.bridgesRemoved) {
      const parentRef = this.existingTraceRow(b.traceId, traceRows);
      const ref = `${b.traceId}:${b.spanId}`;
      if (parentRef !== undefined && !lostGroups.has(ref))
        lostGroups.set(ref, { parentRef, spanId: b.spanId, before: groupsBefore.get(ref) ?? this.groupKeysOfHop(parentRef, b.spanId) });
      const deleted = parentRef !== undefined && st.deleteBridge.run(parentRef, b.spanId, b.key, b.value).changes === 1;
      if (deleted && b.key === 'circuit_id') countBridge(b.value, -1);
      // A hop another group keeps, or takes on in this batch, stays queued.
      if (!groupsBefore.has(ref) && (parentRef === undefined || st.bridgeOfHop.get(parentRef, b.spanId) === undefined))
        dequeued += st.dequeueRef.run(ref).changes;
    }
    const regroupedHops = new Set<string>();
    // The hop and group rows this loop inserted: with those the hop had before the batch, the only
    // rows an update can find. A new hop's row (nearly every bridge) is inserted without one, which
    // cost a probe of the hop index that found nothing, ~5% of the writer's statement time.
    const inserted = new Set<string>();
    for (const b of w.bridgesAdded) {
      // The row is the bridge span too (schema.ts, version 3): its resource is stored with it. It
      // is found through its two traces' rows (version 4).
      const parentRef = this.traceRowOf(b.traceId, now, traceRows);
      const childRef = this.traceRowOf(b.childTraceId, now, traceRows);
      // The columns the two statements share, in their order.
      const columns = [
        b.parentSpanId,
        b.parentService,
        b.parentStartMs,
        b.childTraceId,
        b.childSpanId,
        b.childService,
        b.childStartMs,
        b.key,
        b.value,
        b.method,
        b.confidence,
        b.basis,
        b.createdAtMs,
        bridgeResourceId,
      ];
      // One row per hop and group (schema.ts, version 7): a group planning its hop again updates its own.
      const ref = `${b.traceId}:${b.spanId}`;
      const group = groupMapKey(b.key, b.value);
      const before = groupsBefore.get(ref)!;
      const rowOf = `${ref}\u0000${group}`;
      const mayHaveRow = before.includes(group) || inserted.has(rowOf);
      if (!mayHaveRow || st.updateBridge.run(columns, childRef, parentRef, b.spanId, b.key, b.value).changes === 0) {
        st.insertBridge.run(b.spanId, b.traceId, columns, parentRef, childRef);
        inserted.add(rowOf);
        if (b.key === 'circuit_id') countBridge(b.value, 1);
        if (before.length > 0 && !before.includes(group)) regroupedHops.add(ref);
      }
    }
    // A hop that lost a group and kept another is sent again: Tempo's copy still carries the value
    // of the group that left (encodeBridgeSpan writes every group's).
    for (const [ref, { parentRef, spanId, before }] of lostGroups) {
      const after = this.groupKeysOfHop(parentRef, spanId);
      if (after.length > 0 && (after.length !== before.length || after.some(g => !before.includes(g)))) regroupedHops.add(ref);
    }
    for (const [circuitId, delta] of bridgeDeltas)
      if (delta !== 0) st.bumpCircuitBridges.run(delta, circuitId);
    for (const l of w.links)
      st.insertLink.run(l.sourceTraceId, l.sourceSpanId, l.targetTraceId, l.targetSpanId, l.origin);
    const newHops = new Set<string>();
    for (const [ref, groups] of groupsBefore) if (groups.length === 0) newHops.add(ref);
    return { dequeued, newHops, rekeyedTraceRows, regroupedHops };
  }
}

// The statements run for every trace, bridge and correlation bind their values by position:
// binding by name looked each property up per value, and building the named objects (spreads of
// the derived rows) was an allocation per row; together ~6% of the writer's statement time.
function prepareWrites(d: Database.Database) {
  return {
    insertResource: d.prepare(
      'INSERT OR IGNORE INTO resources (id, hash, service, scope_name, scope_version, body) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertChunk: d.prepare(
      'INSERT INTO span_chunks (id, trace_id, trace_ref, received_ms, span_count, meta, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertChunkInSegment: d.prepare(
      `INSERT INTO span_chunks (id, trace_id, trace_ref, received_ms, span_count, meta, body, body_segment, body_offset, body_length)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    traceRowId: d.prepare('SELECT id FROM traces WHERE trace_id = ?').pluck(),
    insertBareTrace: d
      .prepare(
        `INSERT INTO traces (trace_id, first_ms, last_ms, services, keys, linked, updated_ms)
         VALUES (?, ?, ?, '[]', '{}', '[]', ?) RETURNING id`,
      )
      .pluck(),
    // A trace's row: the insert of a new one, and the update of one the store has (the statements
    // an upsert on trace_id would be, in its order).
    insertTrace: d.prepare(
      `INSERT INTO traces (trace_id, first_ms, last_ms, span_count, error_count, error_log_count, log_count, services,
         entry, keys, more_keys, linked, updated_ms, span_first_ms, span_last_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(trace_id) DO NOTHING`,
    ),
    updateTrace: d
      .prepare(
        `UPDATE traces SET
         first_ms = min(first_ms, ?), last_ms = max(last_ms, ?),
         span_first_ms = min(coalesce(span_first_ms, ?), coalesce(?, span_first_ms)),
         span_last_ms = max(coalesce(span_last_ms, ?), coalesce(?, span_last_ms)),
         span_count = span_count + ?, error_count = error_count + ?, error_log_count = error_log_count + ?,
         log_count = log_count + ?, services = ?, entry = ?, keys = ?, more_keys = ?, linked = ?, updated_ms = ?
       WHERE trace_id = ?
       RETURNING id`,
      )
      .pluck(),
    insertMembership: d.prepare(
      'INSERT OR IGNORE INTO trace_keys (key, value, trace_id, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)',
    ),
    widenMembership: d.prepare(
      `UPDATE trace_keys SET first_ms = min(first_ms, ?), last_ms = max(last_ms, ?)
       WHERE key = +? AND value = ? AND trace_id = ?`,
    ),
    isMember: d.prepare('SELECT 1 FROM trace_keys WHERE key = +? AND value = ? AND trace_id = ?').pluck(),
    anyRefusal: d.prepare('SELECT 1 FROM refused_traces LIMIT 1').pluck(),
    insertRefusal: d.prepare(
      'INSERT OR IGNORE INTO refused_traces (key, value, trace_id, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)',
    ),
    widenRefusal: d.prepare(
      `UPDATE refused_traces SET first_ms = min(first_ms, ?), last_ms = max(last_ms, ?)
       WHERE key = +? AND value = ? AND trace_id = ?`,
    ),
    deleteRefusal: d.prepare('DELETE FROM refused_traces WHERE key = +? AND value = ? AND trace_id = ?'),
    deleteMembership: d.prepare('DELETE FROM trace_keys WHERE key = +? AND value = ? AND trace_id = ?'),
    circuitById: d.prepare('SELECT * FROM circuits WHERE circuit_id = ?'),
    upsertCircuit: d.prepare(
      `INSERT INTO circuits (circuit_id, first_ms, last_ms, trace_count, span_count, error_count, log_count,
         bridge_count, services, keys, updated_ms)
       VALUES (?, ?, ?, 0, ?, ?, ?, 0, ?, ?, ?)
       ON CONFLICT(circuit_id) DO UPDATE SET
         first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),
         span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count,
         log_count = log_count + excluded.log_count, services = excluded.services, keys = excluded.keys,
         updated_ms = excluded.updated_ms`,
    ),
    markServiceHour: d.prepare(
      `INSERT INTO service_hours (hour_ms, service, last_ms) VALUES (?, ?, ?)
       ON CONFLICT (hour_ms, service) DO UPDATE SET last_ms = excluded.last_ms WHERE excluded.last_ms > last_ms`,
    ),
    insertLooseLog: d.prepare('INSERT INTO loose_logs (key, value, time_ms, service) VALUES (?, ?, ?, ?)'),
    bumpCircuitTraces: d.prepare(
      'UPDATE circuits SET trace_count = trace_count + ? WHERE circuit_id = ?',
    ),
    bumpCircuitBridges: d.prepare(
      'UPDATE circuits SET bridge_count = max(0, bridge_count + ?) WHERE circuit_id = ?',
    ),
    deleteCorrelation: d.prepare('DELETE FROM correlations WHERE id = ?'),
    // The upsert's update, but for trace_ids (CorrelationRow.traceIdsStored).
    updateCorrelationKeepingIds: d.prepare(
      `UPDATE correlations SET confidence = ?, first_ms = min(first_ms, ?), last_ms = max(last_ms, ?), services = ?,
         span_count = max(span_count, ?), log_count = max(log_count, ?), updated_ms = ? WHERE id = ?`,
    ),
    upsertCorrelation: d.prepare(
      `INSERT INTO correlations (id, method, key, value, confidence, first_ms, last_ms, trace_ids, services,
         span_count, log_count, created_ms, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET confidence = excluded.confidence,
         first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),
         trace_ids = excluded.trace_ids, services = excluded.services,
         span_count = max(span_count, excluded.span_count), log_count = max(log_count, excluded.log_count),
         updated_ms = excluded.updated_ms`,
    ),
    bridgeOfHop: d.prepare('SELECT 1 FROM bridges WHERE parent_ref = ? AND span_id = ? LIMIT 1').pluck(),
    groupsOfHop: d.prepare('SELECT key, value FROM bridges WHERE parent_ref = ? AND span_id = ?').raw(),
    insertBridge: d.prepare(
      `INSERT INTO bridges (span_id, trace_id, parent_span_id, parent_service, parent_start_ms, child_trace_id,
         child_span_id, child_service, child_start_ms, key, value, method, confidence, basis, created_ms, resource_id,
         parent_ref, child_ref)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // In place: a replaced row would move to a new rowid and rewrite every index entry.
    updateBridge: d.prepare(
      `UPDATE bridges SET parent_span_id = ?, parent_service = ?, parent_start_ms = ?, child_trace_id = ?,
         child_span_id = ?, child_service = ?, child_start_ms = ?, key = ?, value = ?, method = ?,
         confidence = ?, basis = ?, created_ms = ?, resource_id = ?, child_ref = ?
       WHERE parent_ref = ? AND span_id = ? AND key = ? AND value = ?`,
    ),
    deleteBridge: d.prepare('DELETE FROM bridges WHERE parent_ref = ? AND span_id = ? AND key = ? AND value = ?'),
    insertLink: d.prepare(
      `INSERT OR IGNORE INTO links (source_trace_id, source_span_id, target_trace_id, target_span_id, origin)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    insertLog: d.prepare(
      `INSERT OR IGNORE INTO logs (dedupe, time_ms, time_unix_nano, severity_number, severity_text, body, service,
         trace_id, span_id, circuit_id, keys, attributes, resource_id, source, received_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    logIdOf: d.prepare('SELECT id FROM logs WHERE dedupe = ?').pluck(),
    insertLogCircuit: d.prepare('INSERT OR IGNORE INTO log_circuits (log_id, circuit_id, time_ms) VALUES (?, ?, ?)'),
    enqueue: d.prepare(
      'INSERT OR IGNORE INTO export_queue (ref, due_ms, attempts, created_ms) VALUES (?, ?, 0, ?)',
    ),
    dequeueRef: d.prepare('DELETE FROM export_queue WHERE ref = ?'),
    // A hop's rows share its ref and ends: each hop once.
    bridgeEndsOfTrace: d
      .prepare(
        `SELECT trace_id || ':' || span_id, parent_ref, child_ref FROM bridges WHERE parent_ref = ?
         UNION SELECT trace_id || ':' || span_id, parent_ref, child_ref FROM bridges WHERE child_ref = ?`,
      )
      .raw(),
    keysOfTrace: d.prepare('SELECT keys, more_keys FROM traces WHERE trace_id = ?'),
    keysOfTraceRow: d.prepare('SELECT keys, more_keys FROM traces WHERE id = ?'),
    // The queued hops of a trace whose two ends' entry spans are their roots (schema.ts: an
    // entry is stored as the JSON of an EntrySpan, so hasParent false reads as 0).
    dueOnceSettled: d.prepare(
      `UPDATE export_queue SET due_ms = ? WHERE due_ms > ? AND attempts = 0 AND ref IN (
         SELECT b.trace_id || ':' || b.span_id FROM bridges b
           JOIN traces p ON p.id = b.parent_ref JOIN traces c ON c.id = b.child_ref
           WHERE b.parent_ref = ? AND json_extract(p.entry, '$.hasParent') = 0 AND json_extract(c.entry, '$.hasParent') = 0
         UNION SELECT b.trace_id || ':' || b.span_id FROM bridges b
           JOIN traces p ON p.id = b.parent_ref JOIN traces c ON c.id = b.child_ref
           WHERE b.child_ref = ? AND json_extract(p.entry, '$.hasParent') = 0 AND json_extract(c.entry, '$.hasParent') = 0)`,
    ),
    // Later by at least a µs: a send that read the old due time finds it changed.
    dueAnew: d.prepare('UPDATE export_queue SET due_ms = max(?, due_ms + 0.001) WHERE ref = ?'),
    exportQueueCount: d.prepare('SELECT count(*) FROM export_queue').pluck(),
    dropOldestExports: d.prepare(
      'DELETE FROM export_queue WHERE id IN (SELECT id FROM export_queue ORDER BY id LIMIT +?)',
    ),
  };
}
