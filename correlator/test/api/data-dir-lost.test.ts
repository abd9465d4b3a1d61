// DATA_DIR removed or replaced under a running correlator: its descriptors still take writes, but
// nothing written through them is found at the next start. From then on ingest is refused with a
// 503 clients retry, readiness is off with the reason, and the error is logged once.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

async function appOnDir(t: TestContext, env: Record<string, string> = {}): Promise<{ app: FastifyInstance; dir: string }> {
  const parent = mkdtempSync(join(tmpdir(), 'corr-gone-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, 'data');
  return { app: await buildTestApp(t, { ...env, DATA_DIR: dir }), dir };
}

async function tracesRequest(circuitId: string) {
  const startMs = Date.now() - 1000;
  const [trace] = await buildTraces([{ service: 'beorn', spans: [{ name: 'op', startMs, endMs: startMs + 5, attributes: { circuit_id: circuitId } }] }]);
  return { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(trace!.spans) } as const;
}

const logsRequest = (circuitId: string) =>
  ({ method: 'POST', url: '/api/logs', payload: { resource: { service: 's' }, records: [{ timestamp: new Date().toISOString(), message: `circuit_id=${circuitId} m` }] } }) as const;

/** Every request is refused with a 503 to retry later, none acknowledged. */
async function assertRefused(app: FastifyInstance, requests: readonly InjectOptions[]): Promise<void> {
  for (const req of requests) {
    const res = await app.inject(req);
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers['retry-after'], '10');
    assert.match(res.body, /the store could not accept the data \(CORR_STORE_DATA_DIR_LOST\); retry later/);
  }
}

async function assertNotReady(app: FastifyInstance, detail: RegExp): Promise<void> {
  const ready = await app.inject('/ready');
  assert.equal(ready.statusCode, 503);
  const body = ready.json<{ status: string; checks: { store: { ok: boolean; detail: string } } }>();
  assert.equal(body.status, 'not_ready');
  assert.match(body.checks.store.detail, detail);
}

describe('DATA_DIR lost under a running correlator', () => {
  for (const writerThread of ['true', 'false']) {
    it(`refuses ingest and readiness once DATA_DIR is removed, and logs it once (writer thread ${writerThread})`, async t => {
      const { app, dir } = await appOnDir(t, { STORE_WRITER_THREAD: writerThread });
      const before = await tracesRequest('C-BEFORE');
      assert.equal((await app.inject(before)).statusCode, 200);
      assert.equal((await app.inject('/ready')).statusCode, 200);
      const logged = t.mock.method(app.log, 'error');
      rmSync(dir, { recursive: true, force: true });
      // New data, a resend of what was stored (its copy is gone too) and logs: none is acknowledged.
      await assertRefused(app, [await tracesRequest('C-AFTER'), before, logsRequest('C-AFTER')]);
      await assertNotReady(app, /^DATA_DIR was removed while the correlator ran: .*nothing it is sent can be kept; restart the correlator$/);
      await assertRefused(app, [await tracesRequest('C-LATER'), logsRequest('C-LATER')]);
      // The metrics that show the outage are still served (RV18: a 500 on each scrape).
      const metrics = await app.inject('/metrics');
      assert.equal(metrics.statusCode, 200, metrics.body);
      assert.match(metrics.body, /^store_span_segment_bytes 0$/m);
      const lost = logged.mock.calls.filter(c => String(c.arguments[1]).includes('DATA_DIR was removed'));
      assert.equal(lost.length, 1, 'logged once');
      assert.ok(String(lost[0]!.arguments[1]).includes(dir), 'the log names the directory');
      assert.equal(logged.mock.callCount(), 1, 'the refusals after it are not logged each');
    });
  }

  it('refuses ingest and readiness once DATA_DIR is replaced by another directory', async t => {
    const { app, dir } = await appOnDir(t);
    assert.equal((await app.inject(await tracesRequest('C-BEFORE'))).statusCode, 200);
    renameSync(dir, `${dir}.old`);
    mkdirSync(dir);
    await assertRefused(app, [await tracesRequest('C-AFTER')]);
    await assertNotReady(app, /^DATA_DIR was replaced while the correlator ran/);
  });

  it('takes the lock again when its file alone is removed, and goes on storing', async t => {
    const { app, dir } = await appOnDir(t);
    const warned = t.mock.method(app.log, 'warn');
    rmSync(join(dir, 'correlator.lock'));
    assert.equal((await app.inject(await tracesRequest('C-ON'))).statusCode, 200);
    // Readiness looks at every file now (ingest only at the database's, the rest once a second).
    assert.equal((await app.inject('/ready')).statusCode, 200);
    assert.ok(existsSync(join(dir, 'correlator.lock')), 'the lock file is there again');
    assert.equal((await app.inject('/api/circuits/C-ON')).statusCode, 200);
    assert.equal(warned.mock.calls.filter(c => /the lock file of DATA_DIR .* was removed or replaced; the lock was taken again/.test(String(c.arguments[1]))).length, 1);
  });
});
