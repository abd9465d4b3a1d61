// A log line of a trace dates the trace for correlation, but only its spans make it a bridge
// parent: a beorn trace whose spans ended 20 minutes before an mdso trace, with one log line of it
// a second after mdso started, was bridged to mdso with a 20-minute gap at confidence 0.45.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CircuitDetail } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { buildTraces, SpanKind, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const MIN = 60_000;
const CIRCUIT = 'LATE.LOG.0001';

async function postTrace(app: FastifyInstance, service: string, startMs: number, seed: number): Promise<string> {
  const entry = { name: `${service}.work`, kind: SpanKind.SERVER, startMs, endMs: startMs + 500, attributes: { circuit_id: CIRCUIT } };
  const [t] = await buildTraces([{ service, spans: [entry] }], seed);
  await postAccepted(app, '/v1/traces', tracesProtobuf(t!.spans));
  return t!.traceId;
}

async function postLogOf(app: FastifyInstance, traceId: string, atMs: number): Promise<void> {
  const line = { timestamp: new Date(atMs).toISOString(), severity: 'INFO', message: 'async job finished', trace_id: traceId };
  await postAccepted(app, '/api/logs', { resource: { service: 'beorn' }, records: [line] });
}

describe('a late log line of a trace, through the API', () => {
  // Each order the three data can arrive in that has the beorn trace before its log line.
  const orders: { title: string; logFirst: boolean; mdsoFirst: boolean }[] = [
    { title: 'beorn, mdso, then the log line', logFirst: false, mdsoFirst: false },
    { title: 'beorn, the log line, then mdso', logFirst: true, mdsoFirst: false },
    { title: 'mdso, beorn, then the log line', logFirst: false, mdsoFirst: true },
  ];
  for (const order of orders) {
    it(`makes no bridge from a trace whose spans ended 20 minutes before the child (${order.title})`, async t => {
      const app = await buildTestApp(t, { CORR_WINDOW_SECONDS: '60' });
      const t0 = Date.now() - 30 * MIN;
      const mdsoAt = t0 + 20 * MIN;
      let mdso = order.mdsoFirst ? await postTrace(app, 'mdso', mdsoAt, 2) : '';
      const beorn = await postTrace(app, 'beorn', t0, 1);
      if (order.logFirst) await postLogOf(app, beorn, mdsoAt + 1000);
      if (!order.mdsoFirst) mdso = await postTrace(app, 'mdso', mdsoAt, 2);
      if (!order.logFirst) await postLogOf(app, beorn, mdsoAt + 1000);
      const detail = (await app.inject(`/api/circuits/${CIRCUIT}`)).json<CircuitDetail>();
      assert.deepEqual(detail.bridges, []);
      assert.equal(detail.summary.bridgeCount, 0);
      // The log line still dates the beorn trace: both traces are one episode of the circuit.
      const circuitCorrelations = detail.correlations.filter(c => c.key === 'circuit_id');
      assert.deepEqual(circuitCorrelations.map(c => [...c.traceIds].sort()), [[beorn, mdso].sort()]);
    });
  }

  // The trace read back after a restart: its row's spans' extent, and a trace of logs alone has none.
  const restarts: { title: string; logFirst: boolean }[] = [
    { title: 'beorn, the log line, a restart, then mdso', logFirst: false },
    { title: 'the log line, a restart, then beorn and mdso', logFirst: true },
  ];
  for (const order of restarts)
    it(`makes no such bridge across a restart (${order.title})`, async t => {
      const dir = mkdtempSync(join(tmpdir(), 'corr-late-log-'));
      const open = async () => {
        const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, CORR_WINDOW_SECONDS: '60' }) });
        await app.ready();
        return app;
      };
      let app = await open();
      t.after(async () => {
        await app.close();
        rmSync(dir, { recursive: true, force: true });
      });
      const t0 = Date.now() - 30 * MIN;
      // The SDK's ids are seeded: the beorn trace's id is known before it is sent.
      const [built] = await buildTraces([{ service: 'beorn', spans: [{ name: 'beorn.work', startMs: t0, endMs: t0 + 500 }] }], 1);
      if (order.logFirst) await postLogOf(app, built!.traceId, t0 + 20 * MIN + 1000);
      else {
        assert.equal(await postTrace(app, 'beorn', t0, 1), built!.traceId);
        await postLogOf(app, built!.traceId, t0 + 20 * MIN + 1000);
      }
      await app.close();
      app = await open();
      if (order.logFirst) assert.equal(await postTrace(app, 'beorn', t0, 1), built!.traceId);
      await postTrace(app, 'mdso', t0 + 20 * MIN, 2);
      const detail = (await app.inject(`/api/circuits/${CIRCUIT}`)).json<CircuitDetail>();
      assert.deepEqual(detail.bridges, []);
      assert.equal(detail.correlations.filter(c => c.key === 'circuit_id').length, 1);
    });
});
