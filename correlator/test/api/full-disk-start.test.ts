// A correlator started on a full disk: what the store holds is read, retention runs, ingest is
// refused with a 503 to retry and readiness is off, with one error logged; once a write succeeds
// again (tried on a timer) it takes data without a restart. A page budget on the store's
// connection stands for the full disk (test/helpers/full-disk.ts), a FIFO for the WAL index file a
// clean stop deleted and a full disk cannot hold, a failing write for span files that cannot grow;
// a corrupt store is still refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { segmentFileWrites } from '../../src/store/sqlite/span-body-files.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { cleanupStack, type Cleanup } from '../helpers/cleanup.js';
import { fullDisk, roomAgain } from '../helpers/full-disk.js';
import { until } from '../helpers/until.js';

const DAY_MS = 86_400_000;

let seed = 1;

/** A trace of its own (ids by a seed of its own), of spans enough that their rows need pages the store's file does not have. */
async function tracesRequest(circuitId: string, startMs = Date.now() - 1000) {
  const spans = Array.from({ length: 200 }, (_, i) => ({ name: `step ${i}`, startMs: startMs + i, endMs: startMs + i + 1, attributes: { circuit_id: circuitId } }));
  const [trace] = await buildTraces([{ service: 'beorn', spans }], seed++);
  const request = { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(trace!.spans) } as const;
  return { request, traceId: trace!.traceId };
}

/** A log whose text needs pages the store's file does not have. */
const logsRequest = (circuitId: string) =>
  ({
    method: 'POST',
    url: '/api/logs',
    payload: { resource: { service: 's' }, records: [{ timestamp: new Date().toISOString(), message: `circuit_id=${circuitId} ${'m'.repeat(16384)}` }] },
  }) as const;

/** A data directory holding a trace and a log of C-HELD and a trace of C-OLD two days old; removed after the test. */
async function dirWithData(cleanup: Cleanup): Promise<{ dir: string; oldTraceId: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-full-'));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir }) });
  try {
    const old = await tracesRequest('C-OLD', Date.now() - 2 * DAY_MS);
    for (const req of [(await tracesRequest('C-HELD')).request, logsRequest('C-HELD'), old.request])
      assert.equal((await app.inject(req)).statusCode, 200);
    return { dir, oldTraceId: old.traceId };
  } finally {
    await app.close();
  }
}

/** The app on `dir` with no room for the store's writes; rows written on its own connection, where the budget is. */
async function startOnFullDisk(cleanup: Cleanup, dir: string, env: Record<string, string> = {}, opts: Partial<AppOptions> = {}): Promise<FastifyInstance> {
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, STORE_WRITER_THREAD: 'false', ...env });
  const app = await buildApp({ config, adjustStoreConnection: fullDisk, ...opts });
  cleanup(() => app.close());
  return app;
}

async function assertRefused(app: FastifyInstance, requests: readonly InjectOptions[]): Promise<void> {
  for (const req of requests) {
    const res = await app.inject(req);
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers['retry-after'], '10');
    assert.match(res.body, /the store could not accept the data \(SQLITE_FULL\); retry later/);
  }
}

const messages = (calls: readonly { arguments: readonly unknown[] }[]) => calls.map(c => String(c.arguments[1]));

describe('a correlator started on a full disk', () => {
  it('serves the stored data, refuses ingest with 503 and Retry-After, is not ready but healthy, and logs it once', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const { dir } = await dirWithData(cleanup);
    const app = await startOnFullDisk(cleanup, dir);
    const logged = t.mock.method(app.log, 'error');
    await app.ready();
    assert.equal((await app.inject('/api/circuits/C-HELD')).statusCode, 200);
    assert.equal((await app.inject('/api/logs?circuit_id=C-HELD')).json<{ logs: unknown[] }>().logs.length, 1);
    await assertRefused(app, [(await tracesRequest('C-NEW')).request, logsRequest('C-NEW')]);
    const ready = await app.inject('/ready');
    assert.equal(ready.statusCode, 503);
    assert.match(ready.json<{ checks: { store: { detail: string } } }>().checks.store.detail, /^writes fail: SQLITE_FULL: /);
    assert.equal((await app.inject('/health')).statusCode, 200);
    await assertRefused(app, [logsRequest('C-LATER')]);
    assert.deepEqual(messages(logged.mock.calls).length, 1, `one error, not one per refusal: ${messages(logged.mock.calls).join(' | ')}`);
    assert.match(messages(logged.mock.calls)[0]!, /^DATA_DIR \(.+\) has no room for writes \(SQLITE_FULL: .*\): the stored data is served/);
    assert.ok(messages(logged.mock.calls)[0]!.includes(dir), 'names the directory');
  });

  it('takes data again without a restart once a write succeeds, tried on a timer', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const { dir } = await dirWithData(cleanup);
    const app = await startOnFullDisk(cleanup, dir, {}, { storeWriteProbeMs: 20 });
    await app.ready();
    await assertRefused(app, [logsRequest('C-NEW')]);
    const informed = t.mock.method(app.log, 'info');
    roomAgain(app.correlator.store.db);
    // Neither /ready nor ingest asked: the timer found out.
    await until(async () => (app.correlator.store.writesRefused === null ? true : null), 'the store to take writes again');
    assert.ok(messages(informed.mock.calls).some(m => m.startsWith('the store takes writes again')), 'logged');
    assert.equal((await app.inject('/ready')).statusCode, 200);
    const after = await tracesRequest('C-NEW');
    for (const req of [after.request, logsRequest('C-NEW')]) assert.equal((await app.inject(req)).statusCode, 200);
    assert.equal((await app.inject(`/api/traces/${after.traceId}`)).statusCode, 200);
    assert.equal((await app.inject('/api/logs?circuit_id=C-NEW')).json<{ logs: unknown[] }>().logs.length, 1);
  });

  it('sweeps retention again as soon as writes succeed, the sweeps meanwhile having failed', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const { dir, oldTraceId } = await dirWithData(cleanup);
    // On a disk with no byte free a delete fails too (it needs room in the WAL), which the page
    // budget alone does not do: a trigger refuses the sweep's deletes until room is made.
    const noRoomForDeletes = (db: Database.Database) => {
      fullDisk(db);
      db.exec(`CREATE TEMP TRIGGER no_room BEFORE DELETE ON main.traces BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    };
    const app = await startOnFullDisk(cleanup, dir, { RETENTION_DAYS: '1' }, { adjustStoreConnection: noRoomForDeletes, storeWriteProbeMs: 20 });
    const logged = t.mock.method(app.log, 'error');
    await app.listen({ port: 0, host: '127.0.0.1' });
    await until(async () => (messages(logged.mock.calls).includes('retention sweep failed') ? true : null), 'the start-up sweep to fail');
    assert.equal((await app.inject(`/api/traces/${oldTraceId}`)).statusCode, 200, 'kept while deletes fail');
    const db = app.correlator.store.db;
    db.exec('DROP TRIGGER temp.no_room');
    roomAgain(db);
    // The next sweep by the clock is an hour away (RETENTION_DAYS=1).
    await until(async () => ((await app.inject(`/api/traces/${oldTraceId}`)).statusCode === 404 ? true : null), 'the old trace to be swept');
    assert.equal((await app.inject('/api/circuits/C-HELD')).statusCode, 200, 'what is within retention stays');
  });

  it('starts after a clean stop, when the WAL index file the stop deleted cannot be made again', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const { dir } = await dirWithData(cleanup);
    // A FIFO in its place cannot be grown, as no file can on a full disk (SQLITE_IOERR_SHMSIZE).
    const shm = join(dir, 'correlator.db-shm');
    execFileSync('mkfifo', [shm]);
    const app = await startOnFullDisk(cleanup, dir, {}, { storeWriteProbeMs: 20 });
    await app.ready();
    assert.equal((await app.inject('/api/circuits/C-HELD')).statusCode, 200);
    await assertRefused(app, [logsRequest('C-NEW')]);
    assert.equal((await app.inject('/ready')).statusCode, 503);
    await unlink(shm);
    roomAgain(app.correlator.store.db);
    await until(async () => ((await app.inject('/ready')).statusCode === 200 ? true : null), 'the store to be ready again');
    const after = await tracesRequest('C-NEW');
    assert.equal((await app.inject(after.request)).statusCode, 200);
    assert.equal((await app.inject(`/api/traces/${after.traceId}`)).statusCode, 200);
  });

  it('still refuses a store it cannot read: exit 2 naming DATA_DIR, as before', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await mkdtemp(join(tmpdir(), 'corr-full-'));
    cleanup(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'correlator.db'), Buffer.alloc(64 * 1024, 'not a database. '));
    await assert.rejects(
      () => startOnFullDisk(cleanup, dir),
      (e: unknown) => e instanceof ConfigError && /^Invalid setting DATA_DIR: ".+" cannot hold the store \(SQLITE_NOTADB: /.test(e.message),
    );
  });
});

// A disk filling while the correlator runs, where a log's rows find room in the WAL and a trace's
// span bytes none in their file: each success of a log must not say the storage takes writes again.
describe('a correlator whose span files take no writes', () => {
  it('stays not ready while span files take no writes, though logs are stored, and says so once each way', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const { dir } = await dirWithData(cleanup);
    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, STORE_WRITER_THREAD: 'false' }) });
    cleanup(() => app.close());
    await app.ready();
    const logged = t.mock.method(app.log, 'error');
    const informed = t.mock.method(app.log, 'info');
    // SQLite reuses room in its WAL; a span file has to grow, and cannot.
    const noRoom = t.mock.method(segmentFileWrites, 'writeSync', () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    for (let i = 0; i < 5; i++) {
      assert.equal((await app.inject(logsRequest(`C-LOG-${i}`))).statusCode, 200, 'a log needs no span file');
      const res = await app.inject((await tracesRequest(`C-TRACE-${i}`)).request);
      assert.equal(res.statusCode, 503, res.body);
      assert.equal((await app.inject('/ready')).statusCode, 503, `still not ready after log ${i}`);
    }
    assert.deepEqual(messages(logged.mock.calls), ['store write failed'], 'one error, when writes start failing');
    assert.equal(messages(informed.mock.calls).filter(m => m.startsWith('the store takes writes again')).length, 0);
    noRoom.mock.restore();
    assert.equal((await app.inject('/ready')).statusCode, 200);
    assert.equal((await app.inject((await tracesRequest('C-TRACE-AFTER')).request)).statusCode, 200);
    assert.equal(messages(informed.mock.calls).filter(m => m.startsWith('the store takes writes again')).length, 1);
  });
});
