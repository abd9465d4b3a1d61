import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface CoreMetrics {
  registry: Registry;
  ingestRequests: Counter<'signal' | 'outcome'>;
  ingestItems: Counter<'signal' | 'outcome'>;
  ingestDuration: Histogram<'signal'>;
  correlationEvents: Counter<'method'>;
  bridgesCreated: Counter;
  bridgesSuperseded: Counter;
  bridgeGap: Histogram;
  exportSent: Counter;
  exportFailures: Counter<'reason'>;
  exportDropped: Counter<'reason'>;
  exportRejected: Counter;
  exportUnchanged: Counter;
  exportQueueDepth: Gauge;
  hotStateSize: Gauge<'kind'>;
  hotStateEvictions: Counter<'kind'>;
  hotStateLimit: Gauge<'kind'>;
  hotStateLiveBytes: Gauge<'kind'>;
  hotStateLiveLimitBytes: Gauge<'kind'>;
  hotStateDemotions: Counter<'kind' | 'reason'>;
  hotStateNamingIndexBytes: Gauge;
  heapPressure: Gauge;
  correlationRefusals: Counter;
  overloadRefusals: Counter<'reason'>;
  ingestInflight: Gauge;
  ingestBodyBytesInFlight: Gauge;
  spanJsonCacheBytes: Gauge;
  spanJsonCacheLimit: Gauge;
  spanJsonCacheEntries: Gauge;
  spanJsonCacheLookups: Counter<'outcome'>;
  renderWorkerSpans: Counter;
  storeWritesInFlight: Gauge;
  storeWriterThread: Gauge;
  storeInFlightWaits: Counter;
  storeCommits: Counter;
  storeSeenFilterBytes: Gauge;
  storeSpanSegments: Gauge;
  storeSpanSegmentBytes: Gauge;
  storeSpansRebuiltOnOpen: Gauge;
  storeSeenFilterEntries: Gauge;
  storeSeenFilterBuilds: Counter;
  storeLookupsSkipped: Counter;
}

/** One registry per app instance, so tests can build many apps in one process. */
export function createCoreMetrics(): CoreMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  const metrics: CoreMetrics = {
    registry,
    ingestRequests: new Counter({
      name: 'otlp_ingest_requests_total',
      help: 'Ingest requests by signal (traces, logs, api_logs) and outcome',
      labelNames: ['signal', 'outcome'],
      registers: r,
    }),
    ingestItems: new Counter({
      name: 'otlp_ingest_items_total',
      help: 'Spans or log records by signal and outcome (accepted, duplicate, rejected)',
      labelNames: ['signal', 'outcome'],
      registers: r,
    }),
    ingestDuration: new Histogram({
      name: 'ingest_batch_duration_seconds',
      help: 'Time to decode, correlate and store one ingest request',
      labelNames: ['signal'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    correlationEvents: new Counter({
      name: 'correlation_events_total',
      help: 'A trace or the logs of a trace joined a correlation, by method',
      labelNames: ['method'],
      registers: r,
    }),
    bridgesCreated: new Counter({ name: 'bridges_created_total', help: 'Bridge spans created or updated', registers: r }),
    bridgesSuperseded: new Counter({
      name: 'bridges_superseded_total',
      help: 'Bridge spans replaced because later data showed a closer parent',
      registers: r,
    }),
    // The observed gap between a parent call and the child trace it bridged: its p99 is the
    // evidence for tuning CORR_WINDOW_SECONDS (the window must exceed the slowest real hop).
    bridgeGap: new Histogram({
      name: 'bridge_gap_seconds',
      help: 'Time from the bridged parent span start to the child trace entry',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: r,
    }),
    exportSent: new Counter({ name: 'export_spans_sent_total', help: 'Bridge spans delivered to Tempo', registers: r }),
    exportFailures: new Counter({
      name: 'export_failures_total',
      help: 'Failed export attempts by reason (retryable, permanent, network, store)',
      labelNames: ['reason'],
      registers: r,
    }),
    exportDropped: new Counter({
      name: 'export_dropped_total',
      help: 'Bridge spans dropped by reason: queue_full (EXPORT_QUEUE_MAX reached, oldest dropped) or refused (the endpoint refused them permanently)',
      labelNames: ['reason'],
      registers: r,
    }),
    exportRejected: new Counter({
      name: 'export_spans_rejected_total',
      help: 'Bridge spans the endpoint accepted the request of but refused (OTLP partial_success rejected_spans)',
      registers: r,
    }),
    exportUnchanged: new Counter({
      name: 'export_spans_unchanged_total',
      help: 'Bridge spans queued again but not sent: their bytes are those last sent for the hop',
      registers: r,
    }),
    exportQueueDepth: new Gauge({ name: 'export_queue_depth', help: 'Bridge spans waiting for export', registers: r }),
    hotStateSize: new Gauge({
      name: 'hot_state_entries',
      help: 'Entries held in memory for correlation, by kind (traces, keys)',
      labelNames: ['kind'],
      registers: r,
    }),
    hotStateLimit: new Gauge({
      name: 'hot_state_limit',
      help:
        'Entries held in memory for correlation at most, by kind: MAX_TRACKED_TRACES and MAX_TRACKED_KEYS, ' +
        'or less when the heap (--max-old-space-size) cannot hold them',
      labelNames: ['kind'],
      registers: r,
    }),
    hotStateLiveBytes: new Gauge({
      name: 'hot_state_live_bytes',
      help: 'Heap held by the traces and key groups kept as live objects between batches, as estimated, by kind',
      labelNames: ['kind'],
      registers: r,
    }),
    hotStateLiveLimitBytes: new Gauge({
      name: 'hot_state_live_limit_bytes',
      help: 'The bound on hot_state_live_bytes, by kind: past it the longest live entries are encoded',
      labelNames: ['kind'],
      registers: r,
    }),
    hotStateDemotions: new Counter({
      name: 'hot_state_demotions_total',
      help:
        'Live traces and key groups encoded (kept, not evicted), by kind and reason: entries (more live than the ' +
        'live tier holds) or bytes (fewer, but holding more heap than hot_state_live_limit_bytes)',
      labelNames: ['kind', 'reason'],
      registers: r,
    }),
    hotStateNamingIndexBytes: new Gauge({
      name: 'hot_state_naming_index_bytes',
      help: 'Heap held by the naming indexes of live key groups\' planning orders, as estimated (bounded by dropping orders)',
      registers: r,
    }),
    heapPressure: new Gauge({
      name: 'heap_pressure',
      help: '1 while a nearly full heap has ingest refused with 503 (over 85% of the old generation in use after a full GC)',
      registers: r,
    }),
    hotStateEvictions: new Counter({
      name: 'hot_state_evictions_total',
      help: 'Entries evicted from correlation state because its bound was reached, by kind',
      labelNames: ['kind'],
      registers: r,
    }),
    correlationRefusals: new Counter({
      name: 'correlation_refusals_total',
      help:
        'Traces a correlation full at MAX_TRACES_PER_CIRCUIT did not take as members, counted per batch of each trace: ' +
        'the circuit lists, shows and stitches them, but the correlation counts none of their data',
      registers: r,
    }),
    overloadRefusals: new Counter({
      name: 'overload_refusals_total',
      help: 'Requests refused with 429/503 to protect the process, by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    ingestInflight: new Gauge({
      name: 'ingest_requests_in_flight',
      help: 'Ingest requests admitted and not yet answered (MAX_INFLIGHT_REQUESTS bounds it)',
      registers: r,
    }),
    ingestBodyBytesInFlight: new Gauge({
      name: 'ingest_body_bytes_in_flight',
      help: 'Bytes of ingest request bodies held now, as received and as inflated (MAX_INFLIGHT_BYTES bounds it)',
      registers: r,
    }),
    spanJsonCacheBytes: new Gauge({
      name: 'span_json_cache_bytes',
      help: 'Bytes held by the JSON of spans already served (SPAN_JSON_CACHE_BYTES bounds it)',
      registers: r,
    }),
    spanJsonCacheLimit: new Gauge({
      name: 'span_json_cache_limit_bytes',
      help: 'The bound in effect on span_json_cache_bytes: SPAN_JSON_CACHE_BYTES, or an eighth of the heap when that is less',
      registers: r,
    }),
    spanJsonCacheEntries: new Gauge({ name: 'span_json_cache_entries', help: 'Spans whose JSON is held', registers: r }),
    spanJsonCacheLookups: new Counter({
      name: 'span_json_cache_lookups_total',
      help: 'Spans served from held JSON (hit) or rendered from their bytes (miss)',
      labelNames: ['outcome'],
      registers: r,
    }),
    renderWorkerSpans: new Counter({
      name: 'view_render_worker_spans_total',
      help: 'Spans whose JSON a render worker wrote for a view (VIEW_RENDER_WORKERS); the main thread wrote the other misses',
      registers: r,
    }),
    storeWritesInFlight: new Gauge({
      name: 'store_writes_in_flight',
      help: 'Ingest requests whose rows are handed to the store writer and not yet committed',
      registers: r,
    }),
    storeWriterThread: new Gauge({
      name: 'store_writer_thread',
      help: '1 while ingest rows are written by the writer thread (STORE_WRITER_THREAD), 0 when written on the main thread',
      registers: r,
    }),
    storeInFlightWaits: new Counter({
      name: 'store_inflight_waits_total',
      help: 'Correlation state reads that waited for the writer to commit a request in flight (state evicted while in flight)',
      registers: r,
    }),
    storeCommits: new Counter({
      name: 'store_commits_total',
      help: 'Transactions that committed ingest rows; requests waiting for the writer thread together share one, so fewer commits than requests means the writer is grouping',
      registers: r,
    }),
    storeSpanSegments: new Gauge({
      name: 'store_span_segments',
      help: 'Segment files of received spans\' bytes in DATA_DIR/spans (a new one per 256 MiB; retention deletes those no stored span needs)',
      registers: r,
    }),
    storeSpanSegmentBytes: new Gauge({
      name: 'store_span_segment_bytes',
      help: 'Bytes of the segment files of received spans (the bulk of the data directory beside correlator.db)',
      registers: r,
    }),
    storeSpansRebuiltOnOpen: new Gauge({
      name: 'store_spans_rebuilt_on_open',
      help: 'Stored spans whose bytes were missing from their segment file (a power cut or system crash, or STORE_REBUILD_LOST_SPANS), rebuilt from their records when this process opened the store; 0 after a clean start',
      registers: r,
    }),
    storeSeenFilterBytes: new Gauge({
      name: 'store_seen_filter_bytes',
      help: 'Memory of the filter of trace ids, key groups and log records the store holds (STORE_SEEN_FILTER_BYTES; two filters while one is rebuilt)',
      registers: r,
    }),
    storeSeenFilterEntries: new Gauge({
      name: 'store_seen_filter_entries',
      help: 'Entries added to the seen filter in use; 0 while its first build reads the store (every lookup then goes to the store)',
      registers: r,
    }),
    storeSeenFilterBuilds: new Counter({
      name: 'store_seen_filter_builds_total',
      help: 'Seen filter builds completed: one at start-up, then one each time the filter fills up',
      registers: r,
    }),
    storeLookupsSkipped: new Counter({
      name: 'store_lookups_skipped_total',
      help: 'Store lookups of trace ids, key groups and log records the seen filter showed the store cannot hold',
      registers: r,
    }),
  };
  zeroKnownSeries(metrics);
  return metrics;
}

/**
 * A labelled counter has no series until its first increment, so `increase(x[1h]) > 0` saw
 * nothing of the first outage after a restart (no earlier sample to increase from). The label
 * values failures and refusals are counted under start at 0.
 */
function zeroKnownSeries(m: CoreMetrics): void {
  for (const reason of ['retryable', 'permanent', 'network', 'store']) m.exportFailures.inc({ reason }, 0);
  for (const reason of ['queue_full', 'refused']) m.exportDropped.inc({ reason }, 0);
  for (const reason of ['CORR_ERR_BUSY', 'CORR_ERR_UNAVAILABLE']) m.overloadRefusals.inc({ reason }, 0);
  for (const signal of ['traces', 'logs', 'api_logs']) m.ingestItems.inc({ signal, outcome: 'rejected' }, 0);
  for (const kind of ['traces', 'keys']) for (const reason of ['entries', 'bytes']) m.hotStateDemotions.inc({ kind, reason }, 0);
}

/**
 * A counter for a running total kept elsewhere (engine evictions, cache lookups), moved up to each
 * total it is given when /metrics is scraped.
 */
export function followTotal<L extends string>(counter: Counter<L>, labels: Partial<Record<L, string>>): (total: number) => void {
  let counted = 0;
  return total => {
    counter.inc(labels, total - counted);
    counted = total;
  };
}
