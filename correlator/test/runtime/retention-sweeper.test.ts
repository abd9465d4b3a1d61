// Retention runs in the background: the app is ready and listens without waiting for a start-up
// sweep, which with 150k expired traces outlasted fastify's onReady timeout and failed every start;
// the sweep then deletes everything expired and leaves the summaries counting what is left. It
// runs as often as the retention asks: hourly, a retention of 86 s kept data for up to an hour.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { CircuitDetail, CircuitListResponse, ServiceList } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { RetentionSweeper } from '../../src/runtime/retention-sweeper.js';
import { loadConfig } from '../../src/config/config.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { postAccepted } from '../api/app-fixture.js';

const DAY = 86_400_000;

/** Apps on one data directory, built in turn; each closed, and the directory removed, after the test. */
function dataDir(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'corr-sweeper-'));
  const apps: FastifyInstance[] = [];
  t.after(async () => {
    for (const app of apps) await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return async (env: Record<string, string> = {}, more: Omit<AppOptions, 'config'> = {}): Promise<FastifyInstance> => {
    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, ...env }), ...more });
    apps.push(app);
    await app.ready();
    return app;
  };
}

async function send(app: FastifyInstance, specs: { circuit: string; service: string; atMs: number }[], seed: number): Promise<void> {
  const traces = await buildTraces(
    specs.map(s => ({ service: s.service, spans: [{ name: 'x', startMs: s.atMs, endMs: s.atMs + 1, attributes: { circuit_id: s.circuit } }] })),
    seed,
  );
  for (let i = 0; i < traces.length; i += 500) await postAccepted(app, '/v1/traces', tracesProtobuf(traces.slice(i, i + 500).flatMap(x => x.spans)));
}

const circuits = async (app: FastifyInstance) =>
  (await app.inject('/api/circuits')).json<CircuitListResponse>().circuits.map(c => [c.circuitId, c.traceCount]);

describe('retention sweeper', () => {
  it('listens before the start-up sweep ends, which then deletes every expired trace', async t => {
    const open = dataDir(t);
    const first = await open();
    const old = Date.now() - 8 * DAY;
    // More than one slice (1,000 traces) of expired traces, and one kept in BACKLOG-0.
    await send(
      first,
      [
        ...Array.from({ length: 1500 }, (_, i) => ({ circuit: `BACKLOG-${i % 5}`, service: 'beorn', atMs: old + i })),
        { circuit: 'BACKLOG-0', service: 'arda', atMs: Date.now() - 60_000 },
      ],
      8,
    );
    await first.close();

    // The sweep is held after its first slice until the test lets it go on.
    let release!: () => void;
    const held = new Promise<void>(resolve => (release = resolve));
    let pauses = 0;
    let holding!: () => void;
    const firstSliceDone = new Promise<void>(resolve => (holding = resolve));
    const betweenSlices = () => {
      if (++pauses === 1) return new Promise<void>(r => setImmediate(r));
      holding();
      return held;
    };
    const app = await open({}, { retentionBetweenSlices: betweenSlices });
    await app.listen({ port: 0, host: '127.0.0.1' });
    assert.equal((await app.inject('/health')).statusCode, 200);
    assert.equal((await app.inject('/api/circuits/BACKLOG-1')).statusCode, 200, 'expired data still there: the app did not wait for the sweep');
    // Part-way (the oldest 1,000 traces deleted), what is listed counts only what is left.
    await firstSliceDone;
    for (const c of (await app.inject('/api/circuits')).json<CircuitListResponse>().circuits) {
      const d = (await app.inject(`/api/circuits/${c.circuitId}`)).json<CircuitDetail>();
      assert.equal(d.summary.traceCount, d.traces.length, c.circuitId);
    }

    release();
    await app.retention.idle();
    assert.deepEqual(await circuits(app), [['BACKLOG-0', 1]]);
    const d = (await app.inject('/api/circuits/BACKLOG-0')).json<CircuitDetail>();
    assert.deepEqual([d.summary.traceCount, d.summary.spanCount, d.summary.services, d.traces.length], [1, 1, ['arda'], 1]);
    const left = app.correlator.store.db
      .prepare(
        `SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM span_chunks), (SELECT count(*) FROM trace_keys) + (SELECT count(*) FROM refused_traces),
           (SELECT count(*) FROM bridges), (SELECT count(*) FROM correlations WHERE last_ms < ?)`,
      )
      .raw()
      .get(Date.now() - 7 * DAY);
    assert.deepEqual(left, [1, 1, 1, 0, 0]);
  });

  it('sweeps as often as a short retention asks (a tenth of it), and lists no service it deleted the data of', async t => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const open = dataDir(t);
    let clock = Date.now();
    // RETENTION_DAYS=0.001 is 86.4 s: a sweep each 8.64 s.
    const app = await open({ RETENTION_DAYS: '0.001' }, { now: () => clock });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await send(app, [{ circuit: 'SHORT', service: 'palantir', atMs: Date.now() - 1000 }], 10);
    await app.retention.idle();
    clock += 120_000;
    t.mock.timers.tick(8_000);
    await app.retention.idle();
    assert.deepEqual(await circuits(app), [['SHORT', 1]], 'no sweep before its interval');
    t.mock.timers.tick(640);
    await app.retention.idle();
    assert.deepEqual(await circuits(app), []);
    assert.deepEqual((await app.inject('/api/services')).json<ServiceList>().services, []);
  });

  it('yields between slices each sized to its budget, as the clock it is given measures the slice', async t => {
    const open = dataDir(t);
    const app = await open();
    const old = Date.now() - 8 * DAY;
    await send(app, Array.from({ length: 400 }, (_, i) => ({ circuit: `PACED-${i % 9}`, service: 'beorn', atMs: old + i })), 11);
    const db = app.correlator.store.db;
    const traces = db.prepare('SELECT count(*) FROM traces').pluck();
    // The sweep's clock: 2 ms for each trace deleted, so a slice costs what it deletes.
    const clock = () => 2 * (400 - (traces.get() as number));
    const slices: { deleted: number; ms: number }[] = [];
    let last = { left: 400, at: 0 };
    const sweeper = new RetentionSweeper({
      store: app.correlator.store,
      retentionDays: 7,
      now: Date.now,
      forget: touched => app.correlator.engine.forget(touched),
      log: app.log,
      pacing: { clock, budgetMs: 50, traces: { first: 10, min: 1, max: 1000 } },
      betweenSlices: async () => {
        const left = traces.get() as number;
        if (left < last.left) slices.push({ deleted: last.left - left, ms: clock() - last.at });
        last = { left, at: clock() };
        await new Promise<void>(resolve => setImmediate(resolve));
      },
    });
    await sweeper.sweep();
    assert.equal(traces.get(), 0);
    // 10 traces (20 ms), twice that (40 ms), then the 25 the budget holds at 2 ms each.
    assert.deepEqual(
      slices.slice(0, 4).map(s => s.deleted),
      [10, 20, 25, 25],
    );
    assert.equal(slices.length, 2 + Math.ceil((400 - 30) / 25));
    for (const s of slices) assert.ok(s.ms <= 50, `a slice of ${s.deleted} traces took ${s.ms} ms by the sweep's clock`);
    assert.deepEqual(await circuits(app), []);
  });
});
