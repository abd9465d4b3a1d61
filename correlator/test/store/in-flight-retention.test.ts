// While a request waits for its rows to commit, it holds only what its answer needs: its decoded
// spans and the rows sent to the writer thread must be collectable. Under load a request waits ~40 ms,
// long enough for young-generation collections to copy and promote whatever it still references.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { IngestResult } from '../../src/ingest/pipeline.js';
import type { DecodedLog, DecodedSpan } from '../../src/otlp/decoded.js';
import { buildTestApp } from '../api/app-fixture.js';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const CID = '71.L1XX.100200..CHTR';

/** WeakRefs to what correlation was handed (the list and its first item) and to the rows it derived. */
function watchObserved(app: FastifyInstance): { items: WeakRef<object>[] } {
  const watched = { items: [] as WeakRef<object>[] };
  const engine = app.correlator.engine;
  const observe = engine.observe.bind(engine);
  engine.observe = (spans: readonly DecodedSpan[], logs: readonly DecodedLog[]) => {
    const items = spans.length > 0 ? spans : logs;
    const result = observe(spans, logs);
    watched.items.push(new WeakRef(items), new WeakRef(items[0]!), new WeakRef(result.writes));
    return result;
  };
  return watched;
}

/** Another connection holds the write lock: the writer waits for it (busy timeout) and the request with it. */
function holdWriteLock(app: FastifyInstance): () => void {
  const other = new Database(app.correlator.store.db.name);
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('ROLLBACK');
    other.close();
  };
}

/** WeakRefs keep their targets until the current job ends: collect on a later turn. */
async function collectOnLaterTurn(): Promise<void> {
  await new Promise(resolve => setImmediate(resolve));
  collectGarbage();
}

function pendingFlag(p: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  void p.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

// With the writer thread only: written in line, a request's rows commit before its call returns.
/**
 * Sends one request while the writer waits for the lock, and checks on a later turn that what
 * correlation was handed has been collected while the request still waits; returns its answer.
 */
async function collectedWhileWaiting(
  app: FastifyInstance,
  send: () => Promise<IngestResult>,
  what: string,
): Promise<IngestResult> {
  const watched = watchObserved(app);
  const release = holdWriteLock(app);
  const answer = send();
  const state = pendingFlag(answer);
  try {
    await collectOnLaterTurn();
    assert.equal(watched.items.length, 3, 'correlation saw the request');
    assert.equal(state.settled, false, 'the write is still waiting for the lock');
    assert.deepEqual(
      watched.items.map(w => w.deref() === undefined),
      [true, true, true],
      `${what} and the derived rows were collected while the request waited`,
    );
  } finally {
    release();
  }
  return answer;
}

describe('a request waiting for the writer thread to commit', () => {
  it('does not keep its decoded spans', async t => {
    const app = await buildTestApp(t, { STORE_WRITER_THREAD: 'true' });
    const [trace] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'create', startMs: T0, endMs: T0 + 50, attributes: { circuit_id: CID } },
          { name: 'activate', startMs: T0 + 60, endMs: T0 + 90, attributes: { circuit_id: CID } },
        ],
      },
    ]);
    const body = tracesProtobuf(trace!.spans);
    const answer = await collectedWhileWaiting(
      app,
      () => app.correlator.pipeline.tracesFromProtobuf(body),
      'the span list, a decoded span',
    );
    assert.equal(answer.accepted, 2);
    const stored = await app.inject({
      method: 'GET',
      url: `/api/circuits/${encodeURIComponent(CID)}/trace`,
    });
    assert.equal(stored.statusCode, 200);
    assert.equal(
      (stored.json() as { spans: unknown[] }).spans.length,
      2,
      'the spans were stored all the same',
    );
  });

  it('does not keep its decoded log records', async t => {
    const app = await buildTestApp(t, { STORE_WRITER_THREAD: 'true' });
    const records = await buildLogs('beorn', [
      { body: `activation started circuit_id=${CID}`, atMs: T0 },
      { body: `activation done circuit_id=${CID}`, atMs: T0 + 10 },
    ]);
    const body = logsProtobuf(records);
    const answer = await collectedWhileWaiting(
      app,
      () => app.correlator.pipeline.logsFromProtobuf(body),
      'the record list, a decoded record',
    );
    assert.equal(answer.accepted, 2);
  });
});
