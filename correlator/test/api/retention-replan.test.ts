// Retention that deletes the middle trace of a circuit (beorn → mdso → arda) deletes the bridges
// into and out of it. The survivors were left unbridged until new data for the circuit came, though
// the same data sent to a fresh store bridges beorn to arda: the answer depended on history, not on
// the data held. A sweep plans the bridges of the episodes it thinned again, as ingest would.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { CircuitDetail, ServiceGraph } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { ThinnedEpisode, TouchedState } from '../../src/correlation/engine.js';
import { REPLAN_PER_TURN, RetentionSweeper } from '../../src/runtime/retention-sweeper.js';
import type { PruneCounts } from '../../src/store/store.js';
import { fullDisk, roomAgain } from '../helpers/full-disk.js';
import { SpanKind, buildTraces, tracesProtobuf, type BuiltTrace } from '../fixtures/otel-sdk.js';
import { postAccepted } from './app-fixture.js';

const CID = 'CID-THINNED';
// A retention of 86.4 s and a window of 10 minutes: the three traces are one episode.
const ENV = {
  CORR_WINDOW_SECONDS: '600',
  RETENTION_DAYS: '0.001',
  TEMPO_OTLP_ENDPOINT: 'http://127.0.0.1:1/v1/traces',
};

/** An app on a data directory of its own, with a clock the test moves (`advance`). */
async function appWithClock(
  t: TestContext,
  env: Record<string, string> = {},
): Promise<{ app: FastifyInstance; advance: (ms: number) => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'corr-replan-'));
  let offsetMs = 0;
  const fetchImpl = (async () => new Response(null, { status: 200 })) as typeof fetch;
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, ...ENV, ...env });
  const app = await buildApp({ config, now: () => Date.now() + offsetMs, fetchImpl });
  await app.ready();
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, advance: ms => void (offsetMs += ms) };
}

/** beorn calls mdso, mdso calls arda: three traces of the circuit, 84 s ago. */
async function chain(
  at: number,
): Promise<{ beorn: BuiltTrace; mdso: BuiltTrace; arda: BuiltTrace }> {
  const [beorn, mdso, arda] = await buildTraces(
    [
      {
        service: 'beorn',
        spans: [
          {
            name: 'POST /service/create',
            kind: SpanKind.SERVER,
            startMs: at,
            endMs: at + 1800,
            attributes: { circuit_id: CID },
          },
          {
            name: 'POST /bpocore/resources',
            kind: SpanKind.CLIENT,
            parent: 'POST /service/create',
            startMs: at + 40,
            endMs: at + 160,
            attributes: { 'server.address': 'mdso' },
          },
        ],
      },
      {
        service: 'mdso',
        spans: [
          {
            name: 'CircuitDetailsCollector',
            kind: SpanKind.SERVER,
            startMs: at + 1000,
            endMs: at + 2300,
            attributes: { 'mdso.circuit_id': CID },
          },
          {
            name: 'GET /arda/topology',
            kind: SpanKind.CLIENT,
            parent: 'CircuitDetailsCollector',
            startMs: at + 1080,
            endMs: at + 1700,
            attributes: { 'server.address': 'arda' },
          },
        ],
      },
      {
        service: 'arda',
        spans: [
          {
            name: 'get_topology',
            kind: SpanKind.SERVER,
            startMs: at + 1120,
            endMs: at + 1620,
            attributes: { circuit_id: CID },
          },
        ],
      },
    ],
    31,
  );
  return { beorn: beorn!, mdso: mdso!, arda: arda! };
}

/** A newer log line of the trace: it keeps the trace within the retention. */
async function note(
  app: FastifyInstance,
  service: string,
  traceId: string,
  timeMs: number,
): Promise<void> {
  await postAccepted(app, '/api/logs', {
    resource: { service },
    records: [
      {
        timestamp: new Date(timeMs).toISOString(),
        message: `late note from ${service}`,
        trace_id: traceId,
      },
    ],
  });
}

/** What the API says of the circuit's bridging, in a form two stores can be compared by. */
async function bridging(app: FastifyInstance) {
  const d = (await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>();
  const g = (await app.inject(`/api/service-graph?circuit_id=${CID}`)).json<ServiceGraph>();
  return {
    bridged: d.summary.bridged,
    bridgeCount: d.summary.bridgeCount,
    bridges: d.bridges
      .map(
        b =>
          `${b.parentService}:${b.traceId}/${b.parentSpanId} -> ${b.childService}:${b.childTraceId}/${b.childSpanId} #${b.spanId}`,
      )
      .sort(),
    edges: g.edges
      .map(
        e =>
          `${e.source} -> ${e.target}${e.bridged ? ' bridged' : ''}${e.linked ? ' linked' : ''} x${e.callCount}`,
      )
      .sort(),
  };
}

describe('retention of a middle trace', () => {
  it('bridges the traces left as a fresh store given only them does, and queues the bridge for Tempo', async t => {
    const now = Date.now();
    const { beorn, mdso, arda } = await chain(now - 84_000);

    const { app, advance } = await appWithClock(t);
    for (const tr of [beorn, mdso, arda])
      await postAccepted(app, '/v1/traces', tracesProtobuf(tr.spans));
    await note(app, 'beorn', beorn.traceId, now - 5_000);
    await note(app, 'arda', arda.traceId, now - 5_000);
    const before = await bridging(app);
    assert.equal(before.bridgeCount, 2, `beorn → mdso → arda: ${before.bridges.join(' | ')}`);
    const created = async () =>
      Number(/^bridges_created_total (\d+)/m.exec((await app.inject('/metrics')).body)?.[1]);
    const createdBefore = await created();

    // 10 s on, mdso's trace (its last datum 81.7 s before `now`) is older than the retention.
    advance(10_000);
    await app.retention.sweep();
    assert.equal((await app.inject(`/api/traces/${mdso.traceId}`)).statusCode, 404, 'mdso went');
    const after = await bridging(app);

    const fresh = await appWithClock(t);
    for (const tr of [beorn, arda])
      await postAccepted(fresh.app, '/v1/traces', tracesProtobuf(tr.spans));
    await note(fresh.app, 'beorn', beorn.traceId, now - 5_000);
    await note(fresh.app, 'arda', arda.traceId, now - 5_000);
    const expected = await bridging(fresh.app);
    assert.equal(
      expected.bridgeCount,
      1,
      `a fresh store bridges beorn to arda: ${expected.bridges.join(' | ')}`,
    );
    assert.ok(expected.bridges[0]!.startsWith(`beorn:${beorn.traceId}/`), expected.bridges[0]);
    assert.deepEqual(after, expected);
    assert.equal(await created(), createdBefore + 1, 'counted as a bridge created');
    assert.deepEqual(app.correlator.store.replansPending(), [], 'nothing left for the next sweep to plan');

    // Queued for Tempo as any new bridge is (the fake endpoint is never due within the test).
    const [bridge] = (await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>().bridges;
    const queued = app.correlator.store.dueExports(Number.MAX_SAFE_INTEGER, 100);
    assert.ok(
      queued.some(q => q.ref === `${bridge!.traceId}:${bridge!.spanId}` && q.span !== null),
      `the export queue holds ${queued.map(q => q.ref).join(', ')}`,
    );
  });

  it('leaves the traces left unbridged while the store refuses writes, and bridges them with their next data', async t => {
    const now = Date.now();
    const { beorn, mdso, arda } = await chain(now - 84_000);
    // Rows written on the connection whose page budget the test sets.
    const { app, advance } = await appWithClock(t, { STORE_WRITER_THREAD: 'false' });
    for (const tr of [beorn, mdso, arda])
      await postAccepted(app, '/v1/traces', tracesProtobuf(tr.spans));
    await note(app, 'beorn', beorn.traceId, now - 5_000);
    await note(app, 'arda', arda.traceId, now - 5_000);
    const db = app.correlator.store.db;
    fullDisk(db);
    // Enough bytes that the request needs pages the file does not have.
    const records = Array.from({ length: 50 }, (_, i) => ({
      timestamp: new Date(now - i).toISOString(),
      message: `${i} ${'n'.repeat(2048)}`,
    }));
    const refused = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'arda' }, records },
    });
    assert.equal(refused.statusCode, 503, refused.body);
    const planned = t.mock.method(app.correlator.engine, 'replanThinned');
    const failed = t.mock.method(app.log, 'error');
    advance(10_000);
    await app.retention.sweep();
    assert.equal(
      (await app.inject(`/api/traces/${mdso.traceId}`)).statusCode,
      404,
      'mdso went: deletes need no page',
    );
    assert.equal(planned.mock.callCount(), 0, 'nothing planned while writes are refused');
    assert.equal(failed.mock.callCount(), 0, 'the sweep did not fail');
    assert.equal((await bridging(app)).bridgeCount, 0);
    roomAgain(db);
    // A late span of arda's trace: its episode, read back, plans whole.
    const [late] = await buildTraces(
      [
        {
          service: 'arda',
          spans: [
            {
              name: 'cache_refresh',
              startMs: now - 3_000,
              endMs: now - 2_950,
              remoteParent: { traceId: arda.traceId, spanId: arda.spanIds['get_topology']! },
            },
          ],
        },
      ],
      32,
    );
    await postAccepted(app, '/v1/traces', tracesProtobuf(late!.spans));
    assert.equal((await bridging(app)).bridgeCount, 1, 'the next data plans the episode whole');
  });

  // RV10: a process killed between a slice's commit and its re-plan left those circuits unbridged
  // for good, the deletes done and nothing left for the next sweep to find.
  it('plans at the next start the episodes a slice thinned before the process died', async t => {
    const now = Date.now();
    const { beorn, mdso, arda } = await chain(now - 84_000);
    const dir = mkdtempSync(join(tmpdir(), 'corr-replan-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fetchImpl = (async () => new Response(null, { status: 200 })) as typeof fetch;
    const start = async (offsetMs: number) => {
      const app = await buildApp({
        config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, ...ENV }),
        now: () => Date.now() + offsetMs,
        fetchImpl,
      });
      await app.ready();
      return app;
    };
    const first = await start(0);
    for (const tr of [beorn, mdso, arda]) await postAccepted(first, '/v1/traces', tracesProtobuf(tr.spans));
    await note(first, 'beorn', beorn.traceId, now - 5_000);
    await note(first, 'arda', arda.traceId, now - 5_000);
    // The store's slices alone, as a sweep runs them, and no re-plan: the process is gone after them.
    const steps = first.correlator.store.pruneStepwise(Date.now() + 10_000 - 86_400);
    while (!steps.next().done);
    assert.equal((await first.inject(`/api/traces/${mdso.traceId}`)).statusCode, 404, 'mdso went');
    assert.equal((await bridging(first)).bridgeCount, 0, 'not planned yet');
    await first.close();

    const again = await start(10_000);
    t.after(() => again.close());
    await again.retention.sweep();
    const after = await bridging(again);
    assert.equal(after.bridgeCount, 1, after.bridges.join(' | '));
    assert.ok(after.bridges[0]!.startsWith(`beorn:${beorn.traceId}/`), after.bridges[0]);
    assert.deepEqual(again.correlator.store.replansPending(), [], 'done with');
  });

  it(`plans the episodes a slice thinned ${REPLAN_PER_TURN} at a time, a turn of the event loop each`, async () => {
    const thinned: ThinnedEpisode[] = Array.from({ length: 2 * REPLAN_PER_TURN + 3 }, (_, i) => ({
      key: 'circuit_id',
      value: `C-${i}`,
      traceId: `t${i}`,
      firstMs: 0,
      lastMs: 1,
    }));
    const events: string[] = [];
    function* steps(): Generator<TouchedState, PruneCounts> {
      events.push('slice');
      yield { traceIds: ['gone'], groupKeys: [], thinned };
      return { spans: 1, logs: 0, traces: 1, circuits: 0, correlations: 0 };
    }
    const sweeper = new RetentionSweeper({
      store: { pruneStepwise: () => steps(), replansPending: () => [], replansDone: () => {} },
      retentionDays: 1,
      now: () => Date.now(),
      forget: () => events.push('forget'),
      replan: async episodes => {
        events.push(`replan ${episodes.length}`);
        return true;
      },
      log: { info: () => {}, warn: () => {}, error: () => {} } as unknown as FastifyInstance['log'],
      betweenSlices: async () => {
        events.push('pause');
      },
    });
    await sweeper.sweep();
    const n = REPLAN_PER_TURN;
    assert.deepEqual(events, [
      'pause',
      'slice',
      'forget',
      `replan ${n}`,
      'pause',
      `replan ${n}`,
      'pause',
      'replan 3',
      'pause',
    ]);
  });
});
