// A trace's errors, as its circuits count them, are its error spans, or when none of its spans
// failed its ERROR-or-worse lines (types.ts, traceErrors). Spans and lines come in any order: what
// a circuit counts must be the same in each, with state kept live or encoded between batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorrelationEngine } from '../../src/correlation/engine.js';
import { nothingStored } from '../../src/correlation/nothing-stored.js';
import { MAX_MORE_KEYS, STATUS_ERROR } from '../../src/correlation/types.js';
import type { DecodedLog, DecodedResourceScope, DecodedSpan } from '../../src/otlp/decoded.js';
import { SEVERITY_ERROR } from '../../src/otlp/severity.js';

const RESOURCE: DecodedResourceScope = { serviceName: 'flask', keys: null, attributes: {}, resourceBytes: new Uint8Array(), scopeName: '', scopeVersion: '' };
const TRACE = '7'.repeat(32);
const T0 = 1_000_000;

// OTLP's StatusCode: UNSET 0, OK 1, ERROR 2. Only ERROR is a failure; OK is a success an SDK
// or its user set explicitly.
const STATUS_OK = 1;

let seq = 0;
function span(keys: Record<string, string>, error: boolean | typeof STATUS_OK, startMs = T0): DecodedSpan {
  return {
    traceId: TRACE,
    spanId: (++seq).toString(16).padStart(16, '0'),
    parentSpanId: '',
    name: 'POST /activate',
    kind: 2,
    startMs,
    endMs: startMs + 10,
    statusCode: error === STATUS_OK ? STATUS_OK : error ? STATUS_ERROR : 0,
    keys,
    links: null,
    bytes: new Uint8Array(),
    resource: RESOURCE,
    synthetic: false,
  };
}

function line(severityNumber: number, keys: Record<string, string> | null = null): DecodedLog {
  return {
    timeMs: T0 + 5,
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber,
    severityText: '',
    body: `line ${++seq}`,
    traceId: TRACE,
    spanId: '',
    eventName: '',
    attributes: {},
    keys,
    resource: RESOURCE,
    source: 'otlp',
  };
}

type Datum = { span: DecodedSpan } | { log: DecodedLog };

function engine(liveEntries: number | undefined): CorrelationEngine {
  return new CorrelationEngine(
    {
      windowMs: 60_000,
      maxTrackedTraces: 1000,
      maxTrackedKeys: 1000,
      maxTracesPerCircuit: 100,
      bridgeKeys: ['circuit_id'],
      correlationKeys: ['circuit_id'],
      now: () => 0,
      ...(liveEntries === undefined ? {} : { liveEntries }),
    },
    nothingStored,
  );
}

/** Each datum a batch of its own, in this order: what each circuit and the trace row were counted. */
function observeOneByOne(e: CorrelationEngine, data: readonly Datum[]) {
  const circuitErrors = new Map<string, number>();
  let errorSpans = 0;
  let errorLines = 0;
  for (const d of data) {
    const { writes } = 'span' in d ? e.observe([d.span], []) : e.observe([], [d.log]);
    for (const c of writes.circuits) circuitErrors.set(c.circuitId, (circuitErrors.get(c.circuitId) ?? 0) + c.errorDelta);
    for (const t of writes.traces) {
      errorSpans += t.errorDelta;
      errorLines += t.errorLogDelta;
    }
  }
  return { circuitErrors, errorSpans, errorLines };
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map(p => [x, ...p]));
}

const CASES: { name: string; data: () => Datum[]; errors: number; errorSpans: number; errorLines: number }[] = [
  {
    name: 'spans that succeeded and two ERROR lines',
    data: () => [{ span: span({ circuit_id: 'C' }, false) }, { span: span({}, false) }, { log: line(SEVERITY_ERROR) }, { log: line(SEVERITY_ERROR + 4) }],
    errors: 2,
    errorSpans: 0,
    errorLines: 2,
  },
  {
    name: 'a span of status OK, one of status UNSET and an ERROR line',
    data: () => [{ span: span({ circuit_id: 'C' }, STATUS_OK) }, { span: span({}, false) }, { log: line(SEVERITY_ERROR) }],
    errors: 1,
    errorSpans: 0,
    errorLines: 1,
  },
  {
    name: 'an error span and two ERROR lines',
    data: () => [{ span: span({ circuit_id: 'C' }, false) }, { span: span({}, true) }, { log: line(SEVERITY_ERROR) }, { log: line(SEVERITY_ERROR, { circuit_id: 'C' }) }],
    errors: 1,
    errorSpans: 1,
    errorLines: 2,
  },
  {
    name: 'two error spans, one ERROR line and one INFO line',
    data: () => [{ span: span({ circuit_id: 'C' }, true) }, { span: span({}, true) }, { log: line(SEVERITY_ERROR) }, { log: line(9) }],
    errors: 2,
    errorSpans: 2,
    errorLines: 1,
  },
];

for (const [mode, liveEntries] of [
  ['state kept live', undefined],
  ['state encoded between batches', 0],
] as const) {
  describe(`a trace's errors in its circuit (${mode})`, () => {
    for (const c of CASES) {
      it(`${c.name}: ${c.errors} in every arrival order`, () => {
        const data = c.data();
        for (const order of permutations(data.map((_, i) => i))) {
          const got = observeOneByOne(engine(liveEntries), order.map(i => data[i]!));
          const label = `order ${order.join(',')}`;
          assert.deepEqual([...got.circuitErrors], [['C', c.errors]], `${label}: the circuit's errors`);
          assert.deepEqual([got.errorSpans, got.errorLines], [c.errorSpans, c.errorLines], `${label}: the trace row's error spans and lines`);
        }
      });
    }

    it('a circuit named past the further key values a trace keeps counts an error span as one and a trace\'s ERROR line as none', () => {
      const e = engine(liveEntries);
      // The trace names circuit C first and MAX_MORE_KEYS others: a circuit it names after those
      // is not kept on it, and counts only the data that name it.
      const names = [{ span: span({ circuit_id: 'C' }, false) }, ...Array.from({ length: MAX_MORE_KEYS }, (_, i) => ({ span: span({ circuit_id: `M${i}` }, false) }))];
      const got = observeOneByOne(e, [...names, { log: line(SEVERITY_ERROR) }, { log: line(SEVERITY_ERROR) }, { log: line(SEVERITY_ERROR, { circuit_id: 'Y' }) }, { span: span({ circuit_id: 'Z' }, true) }]);
      assert.equal(got.circuitErrors.get('C'), 1, 'the trace\'s circuits count its error span, which replaced its lines');
      assert.equal(got.circuitErrors.get('M0'), 1, 'a further circuit the trace keeps counts it alike');
      assert.equal(got.circuitErrors.get('Y'), 0, 'a line naming a circuit the trace does not keep counts no error there');
      assert.equal(got.circuitErrors.get('Z'), 1, 'an error span naming such a circuit counts one there, not what it took off the trace');
    });
  });
}
