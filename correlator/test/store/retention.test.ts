// Retention deletes whole traces, with what hangs from them, and counts again what the rest was
// summed into: a circuit summary after a sweep describes only what is left.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { TouchedState } from '../../src/correlation/engine.js';
import type {
  CircuitDetail,
  CorrelationListResponse,
  TraceDetail,
} from '@correlation-station/api-schema';
import { SpanKind, buildLogs, buildTraces, logsJson, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from '../api/app-fixture.js';
import { pruneInSlices } from '../../src/store/sqlite/retention.js';

const DAY = 86_400_000;
const CID = 'CIRC-RETAIN';

describe('retention', () => {
  it('deletes old traces whole and leaves summaries, correlations and bridges of what is left', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    const episode = (startMs: number, seed: number) =>
      buildTraces(
        ['beorn', 'mdso', 'arda'].map((service, i) => ({
          service,
          spans: [
            {
              name: `${service}.root`,
              kind: SpanKind.SERVER,
              startMs: startMs + i * 100,
              endMs: startMs + i * 100 + 50,
              attributes: { circuit_id: CID },
            },
            {
              name: `${service}.step`,
              startMs: startMs + i * 100 + 10,
              endMs: startMs + i * 100 + 20,
              parent: `${service}.root`,
              error: i === 2,
            },
          ],
        })),
        seed,
      );
    const old = await episode(now - 8 * DAY, 1);
    const recent = await episode(now - 3_600_000, 2);
    for (const trace of [...old, ...recent]) {
      await postAccepted(app, '/v1/traces', tracesProtobuf(trace.spans));
    }
    const log = (atMs: number, traceId?: string) => ({
      timestamp: new Date(atMs).toISOString(),
      message: `circuit_id=${CID} m`,
      ...(traceId ? { trace_id: traceId } : {}),
    });
    const logs = [
      log(now - 8 * DAY),
      log(now - 8 * DAY + 5, old[0]!.traceId),
      log(now - 3_600_000),
      log(now - 3_600_000 + 5, recent[0]!.traceId),
    ];
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/api/logs',
          payload: { resource: { service: 'beorn' }, records: logs },
        })
      ).statusCode,
      200,
    );
    const before = (await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>();
    assert.deepEqual(
      [
        before.summary.traceCount,
        before.summary.spanCount,
        before.summary.bridgeCount,
        before.summary.logCount,
      ],
      [6, 12, 4, 4],
    );

    const pruned = app.correlator.store.prune(now - 7 * DAY);
    app.correlator.engine.forget(pruned.touched);
    assert.deepEqual([pruned.traces, pruned.logs], [3, 2]);

    const after = (await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>();
    const s = after.summary;
    assert.deepEqual(
      [
        s.traceCount,
        s.spanCount,
        s.errorCount,
        s.bridgeCount,
        s.logCount,
        s.firstSeenMs,
        [...s.services].sort(),
      ],
      [3, 6, 1, 2, 2, now - 3_600_000, ['arda', 'beorn', 'mdso']],
    );
    assert.deepEqual(after.traces.map(x => x.traceId).sort(), recent.map(x => x.traceId).sort());
    assert.equal(after.bridges.length, 2);
    const { correlations } = (
      await app.inject(`/api/correlations?circuit_id=${CID}`)
    ).json<CorrelationListResponse>();
    const kept = new Set(recent.map(x => x.traceId));
    assert.ok(correlations.length > 0, 'the recent episode keeps its correlation');
    for (const c of correlations)
      for (const id of c.traceIds)
        assert.ok(kept.has(id), `correlation ${c.id} names deleted trace ${id}`);
    const detail = (await app.inject(`/api/traces/${recent[0]!.traceId}`)).json<TraceDetail>();
    assert.deepEqual(
      [detail.summary.spanCount, detail.spans.filter(x => !x.synthetic).length],
      [2, 2],
    );

    // Late data for the recent episode is not joined by the deleted traces again.
    const [late] = await buildTraces(
      [
        {
          service: 'palantir',
          spans: [
            {
              name: 'p',
              startMs: now - 3_600_000 + 400,
              endMs: now - 3_600_000 + 450,
              attributes: { circuit_id: CID },
            },
          ],
        },
      ],
      3,
    );
    await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: tracesProtobuf(late!.spans),
    });
    for (const c of (
      await app.inject(`/api/correlations?circuit_id=${CID}`)
    ).json<CorrelationListResponse>().correlations)
      for (const id of c.traceIds)
        assert.ok(
          kept.has(id) || id === late!.traceId,
          `correlation ${c.id} names deleted trace ${id}`,
        );
  });

  it('deletes logs of no trace by age, and a correlation they no longer make', async t => {
    const app = await buildTestApp(t);
    const cutoff = Date.now() - 3_600_000;
    const [a, b] = await buildTraces(
      [
        { service: 'beorn', spans: [{ name: 'a', kind: SpanKind.SERVER, startMs: cutoff + 10_000, endMs: cutoff + 11_000, attributes: { circuit_id: 'LOOSE-GONE' } }] },
        { service: 'arda', spans: [{ name: 'b', kind: SpanKind.SERVER, startMs: cutoff + 20_000, endMs: cutoff + 21_000, attributes: { circuit_id: 'LOOSE-KEPT' } }] },
      ],
      5,
    );
    for (const x of [a!, b!]) {
      const r = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(x.spans) });
      assert.equal(r.statusCode, 200, r.body);
    }
    // Logs of no trace: one before the cutoff for each circuit, and one after it for the second.
    const log = (atMs: number, circuit: string) => ({ timestamp: new Date(atMs).toISOString(), message: 'plan step', circuit_id: circuit });
    const sent = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'bpocore' }, records: [log(cutoff - 20_000, 'LOOSE-GONE'), log(cutoff - 20_000, 'LOOSE-KEPT')] },
    });
    assert.equal(sent.statusCode, 200, sent.body);
    const recent = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 'mdso' }, records: [log(cutoff + 25_000, 'LOOSE-KEPT')] } });
    assert.equal(recent.statusCode, 200, recent.body);
    const correlations = async (circuit: string) =>
      (await app.inject(`/api/correlations?circuit_id=${circuit}`))
        .json<CorrelationListResponse>()
        .correlations.map(c => `${c.traceIds.join(',')} logs=${c.logCount} services=${[...c.services].sort().join(',')}`);
    assert.deepEqual(await correlations('LOOSE-GONE'), [`${a!.traceId} logs=1 services=beorn,bpocore`]);
    assert.deepEqual(await correlations('LOOSE-KEPT'), [`${b!.traceId} logs=2 services=arda,bpocore,mdso`]);

    const pruned = app.correlator.store.prune(cutoff);
    app.correlator.engine.forget(pruned.touched);
    assert.equal(pruned.logs, 2);
    // A trace alone is no correlation; the other keeps its trace and its recent log.
    assert.deepEqual(await correlations('LOOSE-GONE'), []);
    // Its services are those of what is left: bpocore's log is gone.
    assert.deepEqual(await correlations('LOOSE-KEPT'), [`${b!.traceId} logs=1 services=arda,mdso`]);
    assert.equal(app.correlator.store.looseLogs('circuit_id', 'LOOSE-GONE', 0, Date.now()), null);

    // A trace deleted from beside a recent log of no trace leaves an episode of that log alone:
    // listed nowhere, and joined by the next trace as the log would be.
    const [old, next] = await buildTraces(
      [
        { service: 'beorn', spans: [{ name: 'old', kind: SpanKind.SERVER, startMs: cutoff - 30_000, endMs: cutoff - 29_000, attributes: { circuit_id: 'LOOSE-LEFT' } }] },
        { service: 'arda', spans: [{ name: 'next', kind: SpanKind.SERVER, startMs: cutoff + 40_000, endMs: cutoff + 41_000, attributes: { circuit_id: 'LOOSE-LEFT' } }] },
      ],
      6,
    );
    const sendTrace = async (x: typeof old) => {
      const r = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(x!.spans) });
      assert.equal(r.statusCode, 200, r.body);
    };
    await sendTrace(old);
    const left = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 'bpocore' }, records: [log(cutoff + 10_000, 'LOOSE-LEFT')] } });
    assert.equal(left.statusCode, 200, left.body);
    assert.deepEqual(await correlations('LOOSE-LEFT'), [`${old!.traceId} logs=1 services=beorn,bpocore`]);
    const again = app.correlator.store.prune(cutoff);
    app.correlator.engine.forget(again.touched);
    assert.deepEqual(await correlations('LOOSE-LEFT'), []);
    // Its span is the log's now, not the deleted trace's.
    assert.deepEqual(
      app.correlator.store.db.prepare(`SELECT first_ms, last_ms, trace_ids FROM correlations WHERE value = 'LOOSE-LEFT'`).raw().all(),
      [[cutoff + 10_000, cutoff + 10_000, '[]']],
    );
    await sendTrace(next);
    assert.deepEqual(await correlations('LOOSE-LEFT'), [`${next!.traceId} logs=1 services=arda,bpocore`]);
    assert.equal(app.correlator.store.looseLogs('circuit_id', 'LOOSE-KEPT', 0, Date.now())?.count, 1);
  });

  it('gives a correlation that loses its earliest traces the id the data left would give it', async t => {
    const cutoff = Date.now() - 3_600_000;
    // One episode across the cutoff: the first trace is deleted, the other two stay.
    const [gone, b, c, late] = await buildTraces(
      [
        ['beorn', cutoff - 30_000],
        ['mdso', cutoff + 10_000],
        ['arda', cutoff + 20_000],
        ['palantir', cutoff + 25_000],
      ].map(([service, startMs]) => ({
        service: service as string,
        spans: [{ name: `${service}.root`, kind: SpanKind.SERVER, startMs: startMs as number, endMs: (startMs as number) + 1000, attributes: { circuit_id: 'RETAIN-ID' } }],
      })),
      7,
    );
    const send = async (app: Awaited<ReturnType<typeof buildTestApp>>, xs: (typeof gone)[]) => {
      for (const x of xs) {
        const r = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(x!.spans) });
        assert.equal(r.statusCode, 200, r.body);
      }
    };
    const correlation = async (app: Awaited<ReturnType<typeof buildTestApp>>) => {
      const list = (await app.inject('/api/correlations?circuit_id=RETAIN-ID')).json<CorrelationListResponse>().correlations;
      assert.equal(list.length, 1);
      return list[0]!;
    };
    const app = await buildTestApp(t);
    await send(app, [gone, b, c]);
    const before = await correlation(app);
    const pruned = app.correlator.store.prune(cutoff);
    app.correlator.engine.forget(pruned.touched);
    const after = await correlation(app);
    assert.deepEqual([...after.traceIds].sort(), [b!.traceId, c!.traceId].sort());

    const fresh = await buildTestApp(t);
    await send(fresh, [b, c]);
    const expected = await correlation(fresh);
    assert.notEqual(expected.id, before.id);
    assert.equal(after.id, expected.id, 'renamed by the sweep, not later by whichever datum comes next');
    assert.equal(after.firstSeenMs, expected.firstSeenMs);

    // The next datum of the episode finds it under that id: no second rename.
    await send(app, [late]);
    await send(fresh, [late]);
    assert.equal((await correlation(app)).id, (await correlation(fresh)).id);
    assert.equal((await correlation(app)).id, expected.id);
  });

  it('keeps the bridge between two traces it keeps, whenever the child started', async t => {
    const app = await buildTestApp(t);
    const cutoff = Date.now() - 3_600_000;
    // Both traces outlast the cutoff, so both are kept whole; the child started before it.
    const traces = await buildTraces(
      [
        { service: 'beorn', spans: [{ name: 'p', kind: SpanKind.SERVER, startMs: cutoff - 20_000, endMs: cutoff + 20_000, attributes: { circuit_id: 'KEEP-HOP' } }] },
        { service: 'mdso', spans: [{ name: 'q', kind: SpanKind.SERVER, startMs: cutoff - 10_000, endMs: cutoff + 5_000, attributes: { circuit_id: 'KEEP-HOP' } }] },
      ],
      8,
    );
    for (const x of traces) {
      const r = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(x.spans) });
      assert.equal(r.statusCode, 200, r.body);
    }
    const before = (await app.inject('/api/circuits/KEEP-HOP')).json<CircuitDetail>();
    assert.equal(before.bridges.length, 1);
    const pruned = app.correlator.store.prune(cutoff);
    app.correlator.engine.forget(pruned.touched);
    const after = (await app.inject('/api/circuits/KEEP-HOP')).json<CircuitDetail>();
    assert.equal(after.traces.length, 2);
    assert.deepEqual(after.bridges, before.bridges);
    assert.equal(after.summary.bridgeCount, 1);
  });

  it('recounts every circuit a deleted trace names, not only its first', async t => {
    const app = await buildTestApp(t);
    const cutoff = Date.now() - 3_600_000;
    // A (past the cutoff) names P in its root and Q in its call; B (kept) names both. Each circuit
    // bridges A → B.
    const [a, b] = await buildTraces(
      [
        {
          service: 'beorn',
          spans: [
            { name: 'a', kind: SpanKind.SERVER, startMs: cutoff - 60_000, endMs: cutoff - 59_000, attributes: { circuit_id: 'TWO-P' } },
            { name: 'a-call', kind: SpanKind.CLIENT, startMs: cutoff - 59_900, endMs: cutoff - 59_100, parent: 'a', attributes: { circuit_id: 'TWO-Q' } },
          ],
        },
        {
          service: 'mdso',
          spans: [
            { name: 'b', kind: SpanKind.SERVER, startMs: cutoff - 40_000, endMs: cutoff + 100_000, attributes: { circuit_id: 'TWO-Q' } },
            { name: 'b-call', kind: SpanKind.CLIENT, startMs: cutoff - 39_000, endMs: cutoff + 99_000, parent: 'b', attributes: { circuit_id: 'TWO-P' } },
          ],
        },
      ],
      7,
    );
    for (const x of [a!, b!]) {
      const r = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(x.spans) });
      assert.equal(r.statusCode, 200, r.body);
    }
    const state = async (circuit: string) => {
      const d = (await app.inject(`/api/circuits/${circuit}`)).json<CircuitDetail>();
      const listed = (await app.inject(`/api/correlations?circuit_id=${circuit}`)).json<CorrelationListResponse>().correlations;
      return { traces: d.summary.traceCount, bridges: [d.summary.bridgeCount, d.bridges.length], correlations: listed.map(c => c.traceIds.length) };
    };
    // Either circuit lists both correlations: they share their traces.
    assert.deepEqual([await state('TWO-P'), await state('TWO-Q')], [
      { traces: 2, bridges: [1, 1], correlations: [2, 2] },
      { traces: 2, bridges: [1, 1], correlations: [2, 2] },
    ]);
    const pruned = app.correlator.store.prune(cutoff);
    app.correlator.engine.forget(pruned.touched);
    assert.equal(pruned.traces, 1);
    // Each is left with B alone: no bridge, and no correlation naming A.
    for (const circuit of ['TWO-P', 'TWO-Q']) assert.deepEqual(await state(circuit), { traces: 1, bridges: [0, 0], correlations: [] }, circuit);
  });

  it('recounts each circuit a log of no trace names, and deletes its rows of each', async t => {
    const app = await buildTestApp(t);
    const cutoff = Date.now() - 3_600_000;
    // RET-B: an old log of its own, and a recent one it shares with RET-A through an array. An old
    // trace's log names RET-C and RET-D.
    const [old] = await buildTraces([{ service: 'beorn', spans: [{ name: 'old', kind: SpanKind.SERVER, startMs: cutoff - 30_000, endMs: cutoff - 29_000 }] }], 8);
    const traced = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(old!.spans) });
    assert.equal(traced.statusCode, 200, traced.body);
    const records = await buildLogs('bpocore', [
      { body: 'old poll', atMs: cutoff - 20_000, attributes: { circuit_id: 'RET-B' } },
      { body: 'bulk activation failed', atMs: cutoff + 10_000, severityText: 'ERROR', severity: 17, attributes: { circuit_id: ['RET-A', 'RET-B'] } },
      { body: 'old bulk step', atMs: cutoff - 29_500, traceId: old!.traceId, attributes: { circuit_id: ['RET-C', 'RET-D'] } },
    ]);
    const sent = await app.inject({ method: 'POST', url: '/v1/logs', payload: logsJson(records) as object });
    assert.equal(sent.statusCode, 200, sent.body);
    const further = () => app.correlator.store.db.prepare('SELECT circuit_id FROM log_circuits ORDER BY circuit_id').pluck().all();
    assert.deepEqual(further(), ['RET-B', 'RET-D']);
    const state = async (circuit: string) => {
      const d = await app.inject(`/api/circuits/${circuit}`);
      if (d.statusCode === 404) return null;
      const { summary } = d.json<CircuitDetail>();
      const logs = (await app.inject(`/api/circuits/${circuit}/logs`)).json<{ logs: { body: string }[] }>().logs.map(l => l.body);
      return { logs: summary.logCount, errors: summary.errorCount, listed: logs };
    };
    assert.deepEqual(await state('RET-B'), { logs: 2, errors: 1, listed: ['bulk activation failed', 'old poll'] });

    const pruned = app.correlator.store.prune(cutoff);
    app.correlator.engine.forget(pruned.touched);
    assert.deepEqual([pruned.traces, pruned.logs], [1, 2]);
    assert.deepEqual(further(), ['RET-B'], "the old trace's log's row went with it");
    assert.deepEqual([await state('RET-C'), await state('RET-D')], [null, null]);
    // Counted again from what is left, the log it shares included.
    assert.deepEqual(await state('RET-B'), { logs: 1, errors: 1, listed: ['bulk activation failed'] });
    assert.deepEqual(await state('RET-A'), { logs: 1, errors: 1, listed: ['bulk activation failed'] });

    const again = app.correlator.store.prune(cutoff + 20_000);
    app.correlator.engine.forget(again.touched);
    assert.equal(again.logs, 1);
    // Each circuit it named is recounted, and has nothing left.
    assert.deepEqual([await state('RET-A'), await state('RET-B')], [null, null]);
    assert.deepEqual(further(), []);
  });

  it('deletes a large backlog a slice at a time, so a caller can yield between slices', async t => {
    const app = await buildTestApp(t);
    const old = Date.now() - 8 * DAY;
    const traces = await buildTraces(
      Array.from({ length: 1500 }, (_, i) => ({
        service: 'beorn',
        spans: [
          {
            name: 'x',
            startMs: old + i,
            endMs: old + i + 1,
            attributes: { circuit_id: `BACKLOG-${i % 7}` },
          },
        ],
      })),
      4,
    );
    for (let i = 0; i < traces.length; i += 500) {
      await postAccepted(app, '/v1/traces', tracesProtobuf(traces.slice(i, i + 500).flatMap(x => x.spans)));
    }
    const steps = app.correlator.store.pruneStepwise(Date.now() - 7 * DAY);
    let slices = 0;
    let step = steps.next();
    while (!step.done) {
      slices++;
      step = steps.next();
    }
    assert.ok(slices >= 2, `${slices} slices`);
    assert.equal(step.value.traces, 1500);
    assert.equal(step.value.circuits, 7);
    assert.equal(
      (await app.inject('/api/circuits')).json<{ circuits: unknown[] }>().circuits.length,
      0,
    );
  });

  it('takes the write lock before it reads what to delete, so a writer committing meanwhile fails no slice', async t => {
    const app = await buildTestApp(t);
    const old = Date.now() - 8 * DAY;
    const traces = await buildTraces([{ service: 'beorn', spans: [{ name: 'x', startMs: old, endMs: old + 1, attributes: { circuit_id: 'LOCKED' } }] }], 6);
    await postAccepted(app, '/v1/traces', tracesProtobuf(traces.flatMap(x => x.spans)));
    // Another connection (the writer thread's, in life) holds the write lock with a write, and
    // commits it 200 ms later, while the slice waits.
    const held = new Int32Array(new SharedArrayBuffer(4));
    const other = new Worker(
      `const { workerData } = require('node:worker_threads');
       const db = new (require(workerData.module))(workerData.file);
       db.exec("BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta (key, value) VALUES ('held', '1')");
       Atomics.store(workerData.held, 0, 1);
       Atomics.notify(workerData.held, 0);
       Atomics.wait(workerData.held, 0, 1, 200);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file: app.correlator.store.db.name, held } },
    );
    const exited = new Promise(resolve => other.once('exit', resolve));
    Atomics.wait(held, 0, 0, 5000);
    const step = pruneInSlices(app.correlator.store.db, Date.now() - 7 * DAY).next();
    await exited;
    assert.deepEqual((step.value as TouchedState).traceIds, [traces[0]!.traceId]);
  });

  describe('part-way', () => {
    const TEN_A_SLICE = { traces: { first: 10, min: 10, max: 10 } };
    // EARLY's 10 old traces are the oldest (the first slice of 10); LATE has 10 old and one kept.
    const load = async (t: Parameters<typeof buildTestApp>[0]) => {
      const app = await buildTestApp(t);
      const old = Date.now() - 8 * DAY;
      const specs = [
        ...Array.from({ length: 10 }, (_, i) => ({ circuit: 'EARLY', at: old + i })),
        ...Array.from({ length: 10 }, (_, i) => ({ circuit: 'LATE', at: old + 1000 + i })),
        { circuit: 'LATE', at: Date.now() - 3_600_000 },
      ];
      const traces = await buildTraces(
        specs.map(({ circuit, at }) => ({
          service: 'beorn',
          spans: [{ name: 'x', startMs: at, endMs: at + 1, attributes: { circuit_id: circuit } }],
        })),
        5,
      );
      await postAccepted(app, '/v1/traces', tracesProtobuf(traces.flatMap(x => x.spans)));
      return app;
    };
    const summary = async (app: Awaited<ReturnType<typeof buildTestApp>>, circuit: string) => {
      const r = await app.inject(`/api/circuits/${circuit}`);
      if (r.statusCode === 404) return null;
      const d = r.json<CircuitDetail>();
      return { traces: d.summary.traceCount, spans: d.summary.spanCount, listed: d.traces.length };
    };

    it('counts only what is left after each slice, not at the end of the sweep', async t => {
      const app = await load(t);
      const steps = pruneInSlices(app.correlator.store.db, Date.now() - 7 * DAY, TEN_A_SLICE);
      app.correlator.engine.forget(steps.next().value as TouchedState);
      assert.equal(await summary(app, 'EARLY'), null, 'all of its traces went in the first slice');
      assert.deepEqual(await summary(app, 'LATE'), { traces: 11, spans: 11, listed: 11 });
      app.correlator.engine.forget(steps.next().value as TouchedState);
      assert.deepEqual(await summary(app, 'LATE'), { traces: 1, spans: 1, listed: 1 });
    });

    it('leaves a store the next sweep finishes when one stops part-way (a crash, a kill)', async t => {
      const app = await load(t);
      // One slice committed, then the sweep is never resumed.
      pruneInSlices(app.correlator.store.db, Date.now() - 7 * DAY, TEN_A_SLICE).next();
      const rest = app.correlator.store.prune(Date.now() - 7 * DAY);
      app.correlator.engine.forget(rest.touched);
      assert.equal(rest.traces, 10);
      assert.equal(await summary(app, 'EARLY'), null);
      assert.deepEqual(await summary(app, 'LATE'), { traces: 1, spans: 1, listed: 1 });
      const listed = (await app.inject('/api/circuits')).json<{ circuits: { circuitId: string }[] }>().circuits;
      assert.deepEqual(listed.map(c => c.circuitId), ['LATE']);
    });
  });
});
