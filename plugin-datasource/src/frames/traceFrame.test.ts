import { DataFrameView, FieldType, type TraceSpanRow } from '@grafana/data';
import type { StitchedTrace, TraceDetail } from '@correlation-station/api-schema';
import { ALL_TARGETS, ONLY_SELF, TRACE_A, TRACE_B, makeBridge, makeResource, makeSpan } from '../test/fixtures';
import { stitchedTraceFrame, traceDetailFrame } from './traceFrame';

function rows(frame: ReturnType<typeof stitchedTraceFrame>) {
  return new DataFrameView<TraceSpanRow>(frame).toArray();
}

describe('stitchedTraceFrame', () => {
  it('follows the trace contract: field names, types, units and meta', () => {
    const frame = stitchedTraceFrame('A', stitched, ONLY_SELF);
    expect(frame.refId).toBe('A');
    expect(frame.meta?.preferredVisualisationType).toBe('trace');
    expect(frame.fields.map((f) => [f.name, f.type])).toEqual([
      ['traceID', FieldType.string],
      ['spanID', FieldType.string],
      ['parentSpanID', FieldType.string],
      ['operationName', FieldType.string],
      ['serviceName', FieldType.string],
      ['serviceTags', FieldType.other],
      ['startTime', FieldType.number],
      ['duration', FieldType.number],
      ['logs', FieldType.other],
      ['references', FieldType.other],
      ['tags', FieldType.other],
      ['kind', FieldType.string],
      ['statusCode', FieldType.number],
      ['statusMessage', FieldType.string],
      ['instrumentationLibraryName', FieldType.string],
      ['instrumentationLibraryVersion', FieldType.string],
      ['warnings', FieldType.other],
    ]);
    expect(frame.fields.find((f) => f.name === 'startTime')?.config.unit).toBe('ms');
    expect(frame.fields.find((f) => f.name === 'duration')?.config.unit).toBe('ms');
    expect(frame.length).toBe(4);
  });

  it('keeps every span with its original trace id, in one frame', () => {
    const view = rows(stitchedTraceFrame('A', stitched, ONLY_SELF));
    expect(view.map((r) => [r.traceID, r.spanID])).toEqual([
      [TRACE_A, '1111111111111111'],
      [TRACE_A, '9999999999999999'],
      [TRACE_B, '2222222222222222'],
      [TRACE_B, '3333333333333333'],
    ]);
    expect(view[1].tags).toContainEqual({ key: 'trace_id', value: TRACE_A });
  });

  it.each([
    ['root span', 0, undefined],
    ['bridge span', 1, '1111111111111111'],
    ['entry span of the later trace', 2, undefined],
    ['child span', 3, '2222222222222222'],
  ])('parentSpanID of the %s', (_name, index, parent) => {
    expect(rows(stitchedTraceFrame('A', stitched, ONLY_SELF))[index].parentSpanID).toBe(parent);
  });

  it.each([
    ['error', 2, true],
    ['ok', 1, false],
    ['unset', 0, false],
  ] as const)('status %s → statusCode %d, error tag %p', (code, statusCode, errorTag) => {
    const trace = { ...stitched, spans: [makeSpan({ status: { code, message: 'boom' } })], bridges: [] };
    const [row] = rows(stitchedTraceFrame('A', trace, ONLY_SELF));
    expect(row.statusCode).toBe(statusCode);
    expect((row.tags ?? []).some((t) => t.key === 'error' && t.value === true)).toBe(errorTag);
  });

  it('turns span events into logs with millisecond timestamps', () => {
    const span = makeSpan({
      events: [{ timeUnixNano: '1700000000050000000', name: 'retry', attributes: { attempt: 2 } }],
    });
    const [row] = rows(stitchedTraceFrame('A', { ...stitched, spans: [span], bridges: [] }, ONLY_SELF));
    expect(row.logs).toEqual([{ timestamp: 1700000000050, name: 'retry', fields: [{ key: 'attempt', value: 2 }] }]);
  });

  it('hangs the later trace under its bridge span, the bridge as its first reference', () => {
    const view = rows(stitchedTraceFrame('A', stitched, ONLY_SELF));
    expect(view[2].references).toEqual([
      {
        traceID: TRACE_A,
        spanID: '9999999999999999',
        tags: [
          { key: 'link.kind', value: 'bridge' },
          { key: 'link.direction', value: 'incoming' },
        ],
      },
    ]);
    // Grafana shows the bridge → child link from the child's reference; repeating it would double it.
    expect(view[1].references).toEqual([]);
    expect(view[0].references).toEqual([]);
  });

  it('keeps an OTLP link as a reference and leaves the back-link inside the frame to Grafana', () => {
    const source = makeSpan({
      spanId: 'aaaaaaaaaaaaaaaa',
      parentSpanId: '1111111111111111',
      links: [{ traceId: TRACE_B, spanId: 'bbbbbbbbbbbbbbbb', attributes: { why: 'async' } }],
    });
    const target = makeSpan({ traceId: TRACE_B, spanId: 'bbbbbbbbbbbbbbbb' });
    const view = rows(
      stitchedTraceFrame('A', { ...stitched, spans: [makeSpan(), source, target], bridges: [] }, ONLY_SELF)
    );
    expect(view[1].references).toEqual([
      { traceID: TRACE_B, spanID: 'bbbbbbbbbbbbbbbb', tags: [{ key: 'why', value: 'async' }] },
    ]);
    expect(view[2].references).toEqual([]);
  });

  it('marks the synthetic bridge span with a warning and its bridge tags', () => {
    const view = rows(stitchedTraceFrame('A', stitched, ONLY_SELF));
    expect(view[1].warnings).toEqual([
      'Synthetic bridge made by the correlator: beorn → mdso joined by circuit_id=CKT-1 (circuit_id_match, confidence 90%)',
    ]);
    expect(view[1].tags).toEqual(
      expect.arrayContaining([
        { key: 'correlator.synthetic', value: true },
        { key: 'bridge.confidence', value: 0.9 },
        { key: 'bridge.basis', value: 'named_call' },
      ])
    );
    expect(view[0].warnings).toBeUndefined();
  });

  it('says in its warning that a bridge on time alone is a guess', () => {
    const bridges = stitched.bridges.map((b) => ({ ...b, basis: 'time_only' as const }));
    const view = rows(stitchedTraceFrame('A', { ...stitched, bridges }, ONLY_SELF));
    expect(view[1].warnings).toEqual([
      'Synthetic bridge made by the correlator: beorn → mdso joined by circuit_id=CKT-1 (circuit_id_match, confidence 90%); ' +
        'a guess on time alone: nothing in the parent trace points at the child (a retry or a poll just before looks the same)',
    ]);
    expect(view[1].tags).toEqual(expect.arrayContaining([{ key: 'bridge.basis', value: 'time_only' }]));
  });

  it.each([
    ['consistent', { lowMs: -20, highMs: 10 }, 1],
    ['uncertain', { lowMs: -20, highMs: 600 }, 2],
    ['reversed', { lowMs: 900, highMs: 950 }, 2],
  ] as const)(
    'tags a bridge with its %s clock check, and warns when the clocks doubt it',
    (order, bounds, warnings) => {
      const childClockOffset = { ...bounds, calls: 3, conflicting: false };
      const bridges = stitched.bridges.map((b) => ({ ...b, clockCheck: { order, childClockOffset } }));
      const view = rows(stitchedTraceFrame('A', { ...stitched, bridges }, ONLY_SELF));
      expect(view[1].tags).toEqual(
        expect.arrayContaining([
          { key: 'bridge.clock_check', value: order },
          { key: 'bridge.child_clock_offset_ms', value: `${bounds.lowMs} to ${bounds.highMs}` },
        ])
      );
      expect(view[1].warnings).toHaveLength(warnings);
      if (warnings === 2) {
        expect(view[1].warnings?.[1]).toContain(
          `mdso's clock reads ${bounds.lowMs} to ${bounds.highMs} ms from beorn's (from 3 calls`
        );
      }
    }
  );

  it('tags a bridge whose services no call connects as unknown, without a warning', () => {
    const bridges = stitched.bridges.map((b) => ({ ...b, clockCheck: { order: 'unknown' as const } }));
    const view = rows(stitchedTraceFrame('A', { ...stitched, bridges }, ONLY_SELF));
    expect(view[1].tags).toContainEqual({ key: 'bridge.clock_check', value: 'unknown' });
    expect(view[1].warnings).toHaveLength(1);
  });

  it('puts the resource attributes and the service name into serviceTags, and the scope beside them', () => {
    const view = rows(stitchedTraceFrame('A', stitched, ONLY_SELF));
    expect(view.map((r) => [r.serviceTags, r.instrumentationLibraryName, r.instrumentationLibraryVersion])).toEqual([
      [
        [
          { key: 'service.name', value: 'beorn' },
          { key: 'host.name', value: 'h1' },
        ],
        'test-scope',
        '1.0.0',
      ],
      [
        [
          { key: 'service.name', value: 'beorn' },
          { key: 'host.name', value: 'h1' },
        ],
        'test-scope',
        '1.0.0',
      ],
      [[{ key: 'service.name', value: 'mdso' }], 'mdso-scripts', '2.1'],
      [[{ key: 'service.name', value: 'mdso' }], 'mdso-scripts', '2.1'],
    ]);
  });

  it('keeps the service name of a span whose resource the reply does not list', () => {
    const span = makeSpan({ serviceName: 'arda', resourceId: 99 });
    const [row] = rows(stitchedTraceFrame('A', { ...stitched, spans: [span], bridges: [] }, ONLY_SELF));
    expect([row.serviceTags, row.instrumentationLibraryName]).toEqual([[{ key: 'service.name', value: 'arda' }], '']);
  });

  const tracesNotice = {
    severity: 'warning',
    text: 'Showing the 2 most recent of 7 traces of the circuit: a narrower time range shows older ones.',
  };
  const spansNotice = { severity: 'warning', text: 'Showing 4 of 9 spans of the circuit.' };
  it.each([
    [false, false, undefined],
    [true, false, [spansNotice]],
    [false, true, [tracesNotice]],
    [true, true, [tracesNotice, spansNotice]],
  ])('truncated=%p, tracesTruncated=%p → notices %j', (truncated, tracesTruncated, notices) => {
    const frame = stitchedTraceFrame(
      'A',
      { ...stitched, truncated, tracesTruncated, traceCount: tracesTruncated ? 7 : 2, spanCount: truncated ? 9 : 4 },
      ONLY_SELF
    );
    expect(frame.meta?.notices).toEqual(notices);
    expect(frame.meta?.custom).toEqual({ circuitId: 'CKT-1', traceIds: [TRACE_A, TRACE_B], truncated });
  });

  it.each([
    [false, 'Showing the 2 most recent of 7 traces of the circuit: a narrower time range shows older ones.'],
    [
      true,
      "Showing the 2 most recent of the circuit's 7 traces in the time range: a narrower time range shows older ones.",
    ],
  ])('says, in the time range=%p, how many traces the cut view covers of how many', (inTimeRange, text) => {
    const cut = { ...stitched, tracesTruncated: true, traceCount: 7 };
    expect(stitchedTraceFrame('A', cut, ONLY_SELF, inTimeRange).meta?.notices).toEqual([{ severity: 'warning', text }]);
  });

  it('says only that traces were cut when a correlator older than traceCount answers', () => {
    const { traceCount: _absent, ...older } = { ...stitched, tracesTruncated: true };
    const frame = stitchedTraceFrame('A', older as StitchedTrace, ONLY_SELF, true);
    expect(frame.meta?.notices).toEqual([
      {
        severity: 'warning',
        text: 'Showing the 2 most recent traces of the circuit: a narrower time range shows older ones.',
      },
    ]);
  });

  it.each([
    ['without Tempo or Loki', ONLY_SELF, []],
    ['with Tempo and Loki', ALL_TARGETS, ['Open trace in Tempo', 'Logs of this trace in Loki']],
  ])('traceID links %s', (_name, targets, titles) => {
    const field = stitchedTraceFrame('A', stitched, targets).fields[0];
    expect((field.config.links ?? []).map((l) => l.title)).toEqual(titles);
  });

  it('points the Tempo link at the configured datasource with a TraceQL query of the trace id', () => {
    const [link] = stitchedTraceFrame('A', stitched, ALL_TARGETS).fields[0].config.links ?? [];
    expect(link.internal).toEqual({
      datasourceUid: 'tempo-uid',
      datasourceName: 'Tempo',
      query: { refId: 'A', queryType: 'traceql', query: '${__value.raw}' },
    });
  });
});

describe('traceDetailFrame', () => {
  it('adds incoming references from linksIn and keeps the trace summary in meta', () => {
    const detail: TraceDetail = {
      summary: {
        traceId: TRACE_B,
        rootService: 'mdso',
        rootName: 'activate',
        services: ['mdso'],
        spanCount: 1,
        errorCount: 0,
        logCount: 0,
        errorLogCount: 0,
        startTimeMs: 1700000000040,
        endTimeMs: 1700000000100,
        durationMs: 60,
        circuitIds: ['CKT-1'],
      },
      spans: [makeSpan({ traceId: TRACE_B, spanId: '2222222222222222', serviceName: 'mdso' })],
      spanCount: 1,
      bridgeSpanCount: 0,
      truncated: false,
      resources: [makeResource()],
      correlations: [],
      correlationsTruncated: false,
      bridges: [],
      linksOut: [],
      linksIn: [
        {
          sourceTraceId: TRACE_A,
          sourceSpanId: '9999999999999999',
          targetTraceId: TRACE_B,
          targetSpanId: '2222222222222222',
          origin: 'bridge',
        },
      ],
    };
    const frame = traceDetailFrame('B', detail, ONLY_SELF);
    const [row] = new DataFrameView<TraceSpanRow>(frame).toArray();
    expect(frame.refId).toBe('B');
    expect(frame.meta?.custom).toEqual({ traceId: TRACE_B, circuitIds: ['CKT-1'] });
    expect(frame.meta?.notices ?? []).toEqual([]);
    const cut = traceDetailFrame('B', { ...detail, spanCount: 100001, truncated: true }, ONLY_SELF);
    expect(cut.meta?.notices).toEqual([{ severity: 'warning', text: 'Showing 1 of 100001 spans of the trace.' }]);
    expect(row.references).toEqual([
      {
        traceID: TRACE_A,
        spanID: '9999999999999999',
        tags: [
          { key: 'link.origin', value: 'bridge' },
          { key: 'link.direction', value: 'incoming' },
        ],
      },
    ]);
  });
});

const stitched: StitchedTrace = {
  circuitId: 'CKT-1',
  traceIds: [TRACE_A, TRACE_B],
  tracesTruncated: false,
  traceCount: 2,
  spans: [
    makeSpan(),
    makeSpan({
      spanId: '9999999999999999',
      parentSpanId: '1111111111111111',
      name: 'bridge beorn → mdso',
      kind: 'internal',
      synthetic: true,
      startTimeMs: 1700000000010,
      durationMs: 30,
    }),
    makeSpan({
      traceId: TRACE_B,
      spanId: '2222222222222222',
      serviceName: 'mdso',
      resourceId: 2,
      startTimeMs: 1700000000040,
      durationMs: 60,
    }),
    makeSpan({
      traceId: TRACE_B,
      spanId: '3333333333333333',
      parentSpanId: '2222222222222222',
      serviceName: 'mdso',
      resourceId: 2,
      kind: 'client',
      startTimeMs: 1700000000050,
      durationMs: 20,
    }),
  ],
  resources: [
    makeResource({ attributes: { 'service.name': 'beorn', 'host.name': 'h1' } }),
    makeResource({ id: 2, attributes: { 'service.name': 'mdso' }, scope: { name: 'mdso-scripts', version: '2.1' } }),
  ],
  bridges: [makeBridge()],
  spanCount: 4,
  bridgeSpanCount: 1,
  truncated: false,
};
