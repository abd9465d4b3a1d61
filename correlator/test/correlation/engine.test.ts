import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorrelationEngine, type StateLoader } from '../../src/correlation/engine.js';
import { correlationId } from '../../src/correlation/ids.js';
import { nothingStored } from '../../src/correlation/nothing-stored.js';
import { MAX_MORE_KEYS } from '../../src/correlation/types.js';
import type { DecodedLog, DecodedResourceScope, DecodedSpan } from '../../src/otlp/decoded.js';


const resources = new Map<string, DecodedResourceScope>();
function resource(service: string): DecodedResourceScope {
  let r = resources.get(service);
  if (!r) {
    r = { serviceName: service, keys: null, attributes: {}, resourceBytes: new Uint8Array(), scopeName: '', scopeVersion: '' };
    resources.set(service, r);
  }
  return r;
}

let seq = 0;
function span(traceNo: number, service: string, startMs: number, keys: Record<string, string>, extra: Partial<DecodedSpan> = {}): DecodedSpan {
  return {
    traceId: traceNo.toString(16).padStart(32, '0'),
    spanId: (++seq).toString(16).padStart(16, '0'),
    parentSpanId: '',
    name: `${service}.op`,
    kind: 2,
    startMs,
    endMs: startMs + 10,
    statusCode: 0,
    keys,
    links: null,
    bytes: new Uint8Array(),
    resource: resource(service),
    synthetic: false,
    ...extra,
  };
}

const MIN = 60_000;

/** An INFO log line of trace `traceNo` at `timeMs`, naming no key. */
function traceLog(traceNo: number, timeMs: number): DecodedLog {
  return {
    timeMs,
    timeUnixNano: `${timeMs}000000`,
    observedTimeUnixNano: '0',
    severityNumber: 9,
    severityText: 'INFO',
    body: 'async job finished',
    traceId: traceNo.toString(16).padStart(32, '0'),
    spanId: '',
    eventName: '',
    attributes: {},
    keys: null,
    resource: resource('beorn'),
    source: 'otlp',
  };
}

function makeEngine(overrides: Partial<ConstructorParameters<typeof CorrelationEngine>[0]> = {}) {
  return new CorrelationEngine(
    {
      windowMs: 60_000,
      maxTrackedTraces: 1000,
      maxTrackedKeys: 1000,
      maxTracesPerCircuit: 100,
      bridgeKeys: ['circuit_id'],
      correlationKeys: ['circuit_id', 'resource_id', 'request_id'],
      now: () => 0,
      ...overrides,
    },
    nothingStored,
  );
}

// Every case runs twice: with state kept as live objects, and with all of it encoded after every
// batch (tiered-map.ts), which must not change a single result.
for (const [mode, liveEntries] of [
  ['state kept live', undefined],
  ['state encoded between batches', 0],
] as const) {
  describe(`CorrelationEngine (${mode})`, () => {
    const engine = (overrides: Partial<ConstructorParameters<typeof CorrelationEngine>[0]> = {}) => makeEngine({ liveEntries, ...overrides });
    it('correlates traces sharing a key within the window and counts one event per joining member', () => {
      const e = engine();
      const r1 = e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      assert.equal(r1.writes.correlations.length, 0, 'a single trace is not yet a correlation');
      const r2 = e.observe([span(2, 'mdso', 1000, { circuit_id: 'C' })], []);
      assert.equal(r2.writes.correlations.length, 1);
      assert.deepEqual(r2.writes.correlations[0]!.traceIds.length, 2);
      assert.equal(r2.events.get('circuit_id_match'), 2);
      const r3 = e.observe([span(3, 'arda', 2000, { circuit_id: 'C' })], []);
      assert.equal(r3.events.get('circuit_id_match'), 1);
      assert.equal(r3.writes.correlations[0]!.id, r2.writes.correlations[0]!.id, 'late data joins the same correlation');
      assert.equal(r3.writes.bridgesAdded.length, 1);
    });

    it('starts a new correlation when the key reappears after the window', () => {
      const e = engine({ windowMs: 1000 });
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' }), span(2, 'mdso', 100, { circuit_id: 'C' })], []);
      const first = e.observe([span(3, 'arda', 200, { circuit_id: 'C' })], []).writes.correlations[0]!.id;
      const later = e.observe([span(4, 'beorn', 10_000, { circuit_id: 'C' }), span(5, 'mdso', 10_100, { circuit_id: 'C' })], []);
      assert.notEqual(later.writes.correlations[0]!.id, first);
      assert.deepEqual(later.writes.correlations[0]!.traceIds.length, 2);
    });

    it('keeps data exactly one window from the episode in it, and starts another a millisecond past', () => {
      const e = engine({ windowMs: 1000 });
      const id = (r: ReturnType<CorrelationEngine['observe']>) => r.writes.correlations[0]!.id;
      const first = id(e.observe([span(1, 'beorn', 0, { circuit_id: 'C' }), span(2, 'mdso', 100, { circuit_id: 'C' })], []));
      // The episode ends at 110 (a span lasts 10 ms): a start at 1110 is exactly one window after.
      assert.equal(id(e.observe([span(3, 'arda', 1110, { circuit_id: 'C' })], [])), first, 'a start one window after its end');
      // It now ends at 1120; a start at 2121 is a millisecond past the window.
      const past = e.observe([span(4, 'beorn', 2121, { circuit_id: 'C' }), span(5, 'mdso', 2130, { circuit_id: 'C' })], []);
      assert.notEqual(id(past), first, 'a start a millisecond past the window');
      assert.equal(past.writes.correlations[0]!.traceIds.length, 2);
    });

    it('writes no link of a span to its own trace, and bridges into that trace as into any', () => {
      const e = engine();
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      const root = span(2, 'mdso', 300, { circuit_id: 'C' });
      const selfLinked = span(2, 'mdso', 310, {}, { parentSpanId: root.spanId, links: [{ traceId: root.traceId, spanId: root.spanId }] });
      const { writes } = e.observe([root, selfLinked], []);
      assert.deepEqual(writes.links, [], 'a link within the trace is no link between traces');
      assert.deepEqual(writes.bridgesAdded.map(b => `${b.parentService}->${b.childService}:${b.childSpanId}`), [`beorn->mdso:${root.spanId}`]);
    });

    it('replaces a bridge when a closer parent arrives late, and reports the superseded one', () => {
      const e = engine();
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      const first = e.observe([span(3, 'arda', 500, { circuit_id: 'C' })], []);
      assert.equal(first.writes.bridgesAdded[0]!.parentService, 'beorn');
      const late = e.observe([span(2, 'mdso', 200, { circuit_id: 'C' })], []);
      assert.deepEqual(late.writes.bridgesRemoved.map(b => `${b.parentService}->${b.childService}`), ['beorn->arda']);
      assert.deepEqual(late.writes.bridgesAdded.map(b => `${b.parentService}->${b.childService}`).sort(), ['beorn->mdso', 'mdso->arda']);
    });

    it('re-plans when the real entry span of a trace arrives after its children', () => {
      const e = engine();
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      const child = span(2, 'mdso', 300, { circuit_id: 'C' }, { parentSpanId: 'aaaaaaaaaaaaaaaa', kind: 1 });
      const r1 = e.observe([child], []);
      const provisional = r1.writes.bridgesAdded[0]!;
      assert.equal(provisional.childSpanId, child.spanId);
      const root = span(2, 'mdso', 250, { circuit_id: 'C' });
      const r2 = e.observe([root], []);
      assert.equal(r2.writes.bridgesAdded[0]!.childSpanId, root.spanId);
      assert.deepEqual(r2.writes.bridgesRemoved.map(b => b.spanId), [provisional.spanId]);
    });

    it('takes the earliest span of a trace whose root never comes as its entry, in any order', () => {
      // Three spans of an mdso trace, each with a parent outside it (its root was not sampled).
      const starts = [400, 300, 350];
      for (const order of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) {
        const e = engine();
        e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
        const spans = order.map(i => span(2, 'mdso', starts[i]!, { circuit_id: 'C' }, { parentSpanId: 'aaaaaaaaaaaaaaaa', kind: 1 }));
        const earliest = spans[order.indexOf(1)]!;
        const live = new Map<string, string>();
        for (const s of spans) {
          const { writes } = e.observe([s], []);
          for (const b of writes.bridgesRemoved) live.delete(b.spanId);
          for (const b of writes.bridgesAdded) live.set(b.spanId, b.childSpanId);
        }
        assert.deepEqual([...live.values()], [earliest.spanId], `order ${order.join(',')}: the bridge goes into the span at 300`);
      }
    });

    it('joins logs with a trace id to that trace, and logs with a key to the key group', () => {
      const e = engine();
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      const log = {
        timeMs: 5,
        timeUnixNano: '5000000',
        observedTimeUnixNano: '0',
        severityNumber: 9,
        severityText: 'INFO',
        body: 'x',
        traceId: (1).toString(16).padStart(32, '0'),
        spanId: '',
        eventName: '',
        attributes: {},
        keys: { circuit_id: 'C' },
        resource: resource('beorn'),
        source: 'otlp' as const,
      };
      const r = e.observe([], [log]);
      // The trace's own log joins its trace; of the key it makes no correlation of one trace.
      assert.deepEqual(r.writes.correlations.map(c => c.method), ['trace_id']);
      const byTrace = r.writes.correlations.find(c => c.method === 'trace_id')!;
      assert.equal(byTrace.confidence, 1);
      assert.equal(byTrace.logCount, 1);
      assert.equal(byTrace.spanCount, 1);
      assert.deepEqual(r.writes.circuits.map(c => [c.circuitId, c.logDelta]), [['C', 1]]);
      // A log of no trace with the key is a member of the key group beside the trace.
      const loose = e.observe([], [{ ...log, traceId: '', timeMs: 6, timeUnixNano: '6000000' }]);
      const byKey = loose.writes.correlations.find(c => c.method === 'circuit_id_match')!;
      assert.deepEqual([byKey.traceIds.length, byKey.spanCount, byKey.logCount], [1, 1, 2]);
    });

    it('keeps a trace with a late log line in the episode, but makes it no bridge parent of a child then', () => {
      const e = engine();
      const bridges: string[] = [];
      const note = (r: ReturnType<typeof e.observe>) =>
        bridges.push(...r.writes.bridgesAdded.map(b => `${b.parentService}->${b.childService}`));
      note(e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []));
      note(e.observe([], [traceLog(1, 20 * MIN + 1000)]));
      const r = e.observe([span(2, 'mdso', 20 * MIN, { circuit_id: 'C' })], []);
      note(r);
      assert.deepEqual(r.writes.correlations.find(c => c.key === 'circuit_id')?.traceIds.length, 2);
      assert.deepEqual(bridges, []);
    });

    it('plans a planned episode\'s children by their parents\' spans, through late log lines and later spans', () => {
      const e = engine();
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      // Planned: the episode keeps its members' planning order from here on (plan-order.ts).
      assert.equal(e.observe([span(2, 'mdso', 1000, { circuit_id: 'C' })], []).writes.bridgesAdded.length, 1);
      e.observe([], [traceLog(1, 20 * MIN + 1000)]);
      // A span that changes the beorn trace but not how late its spans run: its place in the
      // planning order is taken again, with the log line then in its extent.
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' })], []);
      const child = e.observe([span(3, 'arda', 20 * MIN, { circuit_id: 'C' })], []);
      assert.deepEqual(child.writes.bridgesAdded, [], 'the log line makes the beorn trace no parent');
      // A span of it that runs to 30 s before the child does (and, running when mdso started, now
      // parents mdso's bridge too).
      const late = e.observe([span(1, 'beorn', 100, {}, { endMs: 20 * MIN - 30_000, parentSpanId: 'a'.repeat(16) })], []);
      assert.deepEqual(late.writes.bridgesAdded.map(b => `${b.parentService}->${b.childService}`).sort(), ['beorn->arda', 'beorn->mdso']);
    });

    it('plans a child again when its parent\'s spans come to run later, though a log line ran it later still', () => {
      const e = engine();
      // The beorn trace's candidate spans are full (MAX_CANDIDATES), so a later span changes none.
      const steps = Array.from({ length: 128 }, (_, i) => span(1, 'beorn', i, {}, { parentSpanId: 'a'.repeat(16), kind: 1 }));
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' }), ...steps], []);
      e.observe([], [traceLog(1, 20 * MIN + 1000)]);
      assert.deepEqual(e.observe([span(2, 'arda', 20 * MIN, { circuit_id: 'C' })], []).writes.bridgesAdded, []);
      // No key, no new candidate, no new entry: only its spans' end moves, within the window of the child.
      const late = e.observe([span(1, 'beorn', 500, {}, { endMs: 20 * MIN - 30_000, parentSpanId: 'a'.repeat(16), kind: 1 })], []);
      assert.deepEqual(late.writes.bridgesAdded.map(b => `${b.parentService}->${b.childService}`), ['beorn->arda']);
    });

    it('records type-level keys on traces and circuits without forming correlations from them', () => {
      const e = engine();
      const r = e.observe(
        [span(1, 'mdso', 0, { circuit_id: 'A', resource_type_id: 'T' }), span(2, 'mdso', 10, { circuit_id: 'B', resource_type_id: 'T' })],
        [],
      );
      assert.deepEqual(r.writes.correlations, []);
      assert.deepEqual(r.writes.traces.map(t => t.keys.resource_type_id), ['T', 'T']);
      assert.deepEqual(r.writes.memberships.map(m => m.key), ['circuit_id', 'circuit_id']);
    });

    // A bulk activation's span names its circuits in one array (found-keys.ts): it is of each
    // one's group, as a trace whose spans name one each is.
    it("a span of further values joins each value's group and counts for each circuit", () => {
      const e = engine();
      const bulk = e.observe([span(1, 'beorn', 0, { circuit_id: 'A', resource_id: 'R2' }, { moreKeys: ['circuit_id', 'B', 'resource_id', 'R1'] })], []);
      assert.deepEqual(bulk.writes.traces.map(t => [t.keys, t.moreKeys]), [[{ circuit_id: 'A', resource_id: 'R2' }, ['circuit_id', 'B', 'resource_id', 'R1']]]);
      // A trace's further values get their row twice, as those of several spans do (one row in the store).
      assert.deepEqual([...new Set(bulk.writes.memberships.map(m => `${m.key}=${m.value}`))].sort(), ['circuit_id=A', 'circuit_id=B', 'resource_id=R1', 'resource_id=R2']);
      // Each circuit's summary names that circuit, and of the other keys the least value.
      assert.deepEqual(
        bulk.writes.circuits.map(c => [c.circuitId, c.spanDelta, c.keys]).sort(),
        [['A', 1, { circuit_id: 'A', resource_id: 'R1' }], ['B', 1, { circuit_id: 'B', resource_id: 'R1' }]],
      );
      // Later traces of either circuit correlate with it, and are bridged from it.
      const b = e.observe([span(2, 'mdso', 1000, { circuit_id: 'B' })], []);
      assert.deepEqual(b.writes.correlations.filter(c => c.key === 'circuit_id').map(c => [c.value, c.traceIds.length]), [['B', 2]]);
      assert.deepEqual(b.writes.bridgesAdded.map(x => `${x.parentService}->${x.childService} ${x.value}`), ['beorn->mdso B']);
      const a = e.observe([span(3, 'arda', 1000, { circuit_id: 'A' })], []);
      assert.deepEqual(a.writes.correlations.filter(c => c.key === 'circuit_id').map(c => [c.value, c.traceIds.length]), [['A', 2]]);
      assert.deepEqual(a.writes.bridgesAdded.map(x => `${x.parentService}->${x.childService} ${x.value}`), ['beorn->arda A']);
    });

    it('a later span of further values adds them to a trace that already has a circuit', () => {
      const e = engine();
      e.observe([span(1, 'beorn', 0, { circuit_id: 'A' })], []);
      const r = e.observe([span(1, 'beorn', 5, { circuit_id: 'A' }, { moreKeys: ['circuit_id', 'B'] })], []);
      assert.deepEqual(r.writes.traces.map(t => [t.moreKeys, t.keysGained]), [[['circuit_id', 'B'], true]]);
      // B takes the trace whole: both its spans.
      assert.deepEqual(r.writes.circuits.map(c => [c.circuitId, c.spanDelta]).sort(), [['A', 1], ['B', 2]]);
    });

    it('a log of no trace with further values is a loose log of each', () => {
      const e = engine();
      const log = {
        timeMs: 5,
        timeUnixNano: '5000000',
        observedTimeUnixNano: '0',
        severityNumber: 17,
        severityText: 'ERROR',
        body: 'bulk activation failed',
        traceId: '',
        spanId: '',
        eventName: '',
        attributes: {},
        keys: { circuit_id: 'A' },
        moreKeys: ['circuit_id', 'B'],
        resource: resource('beorn'),
        source: 'otlp' as const,
      };
      const r = e.observe([], [log]);
      assert.deepEqual(r.writes.looseLogs.map(l => `${l.key}=${l.value}`), ['circuit_id=A', 'circuit_id=B']);
      assert.deepEqual(r.writes.circuits.map(c => [c.circuitId, c.logDelta, c.errorDelta]).sort(), [['A', 1, 1], ['B', 1, 1]]);
    });

    it(`a trace keeps ${MAX_MORE_KEYS} further values; a span's beyond them still count for their circuits`, () => {
      const e = engine({ maxTrackedKeys: 2000, maxTracesPerCircuit: 10 });
      const values = Array.from({ length: MAX_MORE_KEYS + 2 }, (_, i) => `C${i}`);
      e.observe([span(1, 'beorn', 0, { circuit_id: 'FIRST' }, { moreKeys: values.slice(0, MAX_MORE_KEYS).flatMap(v => ['circuit_id', v]) })], []);
      const r = e.observe([span(1, 'beorn', 5, { circuit_id: 'FIRST' }, { moreKeys: values.slice(MAX_MORE_KEYS).flatMap(v => ['circuit_id', v]) })], []);
      assert.equal(r.writes.traces[0]!.moreKeys.length, 2 * MAX_MORE_KEYS);
      const beyond = values.slice(MAX_MORE_KEYS);
      assert.deepEqual(r.writes.circuits.filter(c => beyond.includes(c.circuitId)).map(c => [c.circuitId, c.spanDelta]).sort(), beyond.map(v => [v, 1]));
    });

    it('keeps hot state bounded and counts evictions', () => {
      const e = engine({ maxTrackedTraces: 100, maxTrackedKeys: 100 });
      for (let i = 1; i <= 250; i++) e.observe([span(i, 'beorn', i, { circuit_id: `C${i}` })], []);
      const s = e.stats();
      assert.equal(s.trackedTraces, 100);
      assert.equal(s.trackedKeys, 100);
      assert.equal(s.traceEvictions, 150);
      assert.equal(s.keyEvictions, 150);
    });

    it('caps the members of one key group and writes the traces it refuses apart', () => {
      const e = engine({ maxTracesPerCircuit: 3 });
      const refused: string[] = [];
      for (let i = 1; i <= 5; i++) {
        const r = e.observe([span(i, i % 2 ? 'beorn' : 'mdso', i * 10, { circuit_id: 'BIG' })], []);
        refused.push(...r.writes.refusals.map(m => m.traceId.slice(-1)));
        if (i > 3) assert.deepEqual(r.writes.memberships, [], 'no membership past the cap');
      }
      assert.deepEqual(refused, ['4', '5']);
    });

    it('writes the refusal of a trace a full group refuses, and reads the group back for none of its later data', () => {
      const reads: string[] = [];
      const stored = new Set<string>();
      const counting: StateLoader = {
        ...nothingStored,
        loadGroup: key => (reads.push(`loadGroup ${key}`), null),
        episodesNear: key => (reads.push(`episodesNear ${key}`), null),
        membershipOf: (key, value, traceId) => (reads.push(`membershipOf ${key}`), stored.has(`${key} ${value} ${traceId}`) ? 'refused' : null),
      };
      const e = new CorrelationEngine(
        { windowMs: 60_000, maxTrackedTraces: 100, maxTrackedKeys: 100, maxTracesPerCircuit: 2, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'], liveEntries },
        counting,
      );
      e.observe([span(1, 'beorn', 0, { circuit_id: 'C' }), span(2, 'mdso', 1000, { circuit_id: 'C' })], []);
      const refused = e.observe([span(3, 'arda', 2000, { circuit_id: 'C' })], []);
      assert.deepEqual(refused.writes.memberships, []);
      assert.deepEqual(
        refused.writes.refusals.map(m => [m.value, m.traceId.slice(-1)]),
        [['C', '3']],
        'the circuit lists the trace it named',
      );
      assert.deepEqual(refused.writes.correlations[0]!.traceIds.map(id => id.slice(-1)), ['1', '2']);
      for (const r of refused.writes.refusals) stored.add(`${r.key} ${r.value} ${r.traceId}`);
      reads.length = 0;
      // Later spans of the refused trace, without the key: the group is in hot state and full.
      const late = e.observe([span(3, 'arda', 5000, {}, { parentSpanId: 'a'.repeat(16) })], []);
      // Whether the full group refused it, once for the batch; then, as it widened the episode,
      // one look for other episodes now within reach; no read of the group.
      assert.deepEqual(reads, ['membershipOf circuit_id', 'episodesNear circuit_id']);
      assert.deepEqual(late.writes.refusals.map(m => [m.traceId.slice(-1), m.lastMs]), [['3', 5010]]);
      assert.equal(late.writes.correlations[0]!.lastMs, 5010, 'the episode spans the trace it refused');
      assert.equal(late.writes.correlations[0]!.spanCount, 2, 'and counts none of its spans');
    });

    it('reads back only the logs of no trace an episode has not counted, as it widens', () => {
      // The store: every log of no trace the engine wrote.
      const stored: { timeMs: number; service: string }[] = [];
      const asked: string[] = [];
      const spanOf = (logs: typeof stored) =>
        logs.length === 0
          ? null
          : {
              count: logs.length,
              firstMs: Math.min(...logs.map(l => l.timeMs)),
              lastMs: Math.max(...logs.map(l => l.timeMs)),
              services: [...new Set(logs.map(l => l.service))],
            };
      const loader: StateLoader = {
        ...nothingStored,
        episodesNear: (_key, _value, fromMs, toMs, _max, counted) => {
          asked.push(`near ${fromMs}..${toMs} counted ${counted ? `${counted.firstMs}..${counted.lastMs}` : 'none'}`);
          const loose = spanOf(stored.filter(l => l.timeMs >= fromMs && l.timeMs <= toMs && !(counted && l.timeMs >= counted.firstMs && l.timeMs <= counted.lastMs)));
          return loose && { correlations: [], members: [], looseLogs: loose };
        },
        looseLogs: (_key, _value, fromMs, toMs) => (asked.push(`looseLogs ${fromMs}..${toMs}`), spanOf(stored.filter(l => l.timeMs >= fromMs && l.timeMs <= toMs))),
      };
      const e = new CorrelationEngine(
        { windowMs: 60_000, maxTrackedTraces: 100, maxTrackedKeys: 100, maxTracesPerCircuit: 100, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'], liveEntries },
        loader,
      );
      const log = (timeMs: number) => ({
        timeMs,
        timeUnixNano: `${timeMs}000000`,
        observedTimeUnixNano: '0',
        severityNumber: 9,
        severityText: 'INFO',
        body: 'poll',
        traceId: '',
        spanId: '',
        eventName: '',
        attributes: {},
        keys: { circuit_id: 'C' },
        resource: resource('mdso'),
        source: 'api' as const,
      });
      let last = null;
      for (let i = 0; i < 5; i++) {
        last = e.observe([span(i + 1, 'beorn', i * 1000, { circuit_id: 'C' })], [log(i * 1000 + 500)]);
        stored.push(...last.writes.looseLogs.map(l => ({ timeMs: l.timeMs, service: l.service })));
        // And one stored after the episode last looked (a log it never saw), which its span comes to hold.
        if (i === 1) stored.push({ timeMs: 1700, service: 'palantir' });
      }
      // Each widening looks only beyond what the episode counted, and nothing counts it all again.
      assert.deepEqual(asked, [
        'near -60000..60500 counted 0..10',
        'near -60000..61500 counted 0..500',
        'near -60000..62500 counted 0..1500',
        'near -60000..63500 counted 0..2500',
        'near -60000..64500 counted 0..3500',
      ]);
      const c = last!.writes.correlations[0]!;
      assert.equal(c.logCount, 6, "the episode's five logs and the stored one its span came to hold");
      assert.deepEqual([...c.services].sort(), ['beorn', 'mdso', 'palantir']);
    });

    it('asks the store for state it does not hold, e.g. after a restart', () => {
      const loaded: string[] = [];
      const loader: StateLoader = {
        ...nothingStored,
        loadTraces: ids => {
          loaded.push(...ids);
          return [];
        },
        loadGroup: (key, value) =>
          key === 'circuit_id' && value === 'C'
            ? {
                mapKey: 'circuit_id\u0000C',
                // Stored ids follow the episode's earliest datum (mergeEpisodes).
                id: correlationId('circuit_id_match', 'C', 0),
                method: 'circuit_id_match',
                key: 'circuit_id',
                value: 'C',
                confidence: 0.9,
                firstMs: 0,
                lastMs: 10,
                traceIds: ['f'.repeat(32)],
                traceSet: new Set(['f'.repeat(32)]),
                services: ['beorn'],
                spanCount: 1,
                logCount: 0,
                looseLogs: 0,
                bridges: null,
                persistedMembers: 0,
                planned: false,
                reachUnmerged: false,
              }
            : null,
      };
      const e = new CorrelationEngine(
        { windowMs: 60_000, maxTrackedTraces: 10, maxTrackedKeys: 10, maxTracesPerCircuit: 10, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'], liveEntries },
        loader,
      );
      const r = e.observe([span(9, 'mdso', 20, { circuit_id: 'C' })], []);
      assert.ok(loaded.includes((9).toString(16).padStart(32, '0')), 'loaded.includes((9).toString(16).padStart(32, \'0\'))');
      assert.equal(r.writes.correlations[0]!.id, correlationId('circuit_id_match', 'C', 0));
      assert.deepEqual(r.writes.correlationsRemoved, []);
      assert.equal(r.writes.correlations[0]!.traceIds.length, 2);
    });
  });
}
