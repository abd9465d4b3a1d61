// Every list with a limit says when it was cut: one cut without saying so reads as all there is.
// A circuit's logs take a time range, as its detail and trace view do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorResponse, LogListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);
const CIRCUITS = 3;
const LOGS_PER_CIRCUIT = 4;

/** Three circuits, each of a beorn and an arda trace (one correlation) and four logs naming it. */
async function ingest(app: FastifyInstance): Promise<void> {
  const built = await buildTraces(
    Array.from({ length: CIRCUITS }, (_, i) => [
      { service: 'beorn', spans: [{ name: 'activate', startMs: T0 + i * 60_000, endMs: T0 + i * 60_000 + 100, attributes: { circuit_id: `LT-${i}` } }] },
      { service: 'arda', spans: [{ name: 'configure', startMs: T0 + i * 60_000 + 200, endMs: T0 + i * 60_000 + 300, attributes: { circuit_id: `LT-${i}` } }] },
    ]).flat(),
  );
  await postAccepted(app, '/v1/traces', tracesProtobuf(built.flatMap(t => t.spans)));
  const records = await buildLogs(
    'beorn',
    Array.from({ length: CIRCUITS * LOGS_PER_CIRCUIT }, (_, j) => ({
      body: `step ${j}`,
      atMs: T0 + Math.floor(j / LOGS_PER_CIRCUIT) * 60_000 + (j % LOGS_PER_CIRCUIT) * 10,
      attributes: { circuit_id: `LT-${Math.floor(j / LOGS_PER_CIRCUIT)}` },
    })),
  );
  await postAccepted(app, '/v1/logs', logsProtobuf(records));
}

describe('list truncation', () => {
  const lists = [
    { url: '/api/circuits', field: 'circuits', total: CIRCUITS },
    { url: '/api/correlations', field: 'correlations', total: CIRCUITS },
    { url: '/api/logs', field: 'logs', total: CIRCUITS * LOGS_PER_CIRCUIT },
    { url: '/api/circuits/LT-1/logs', field: 'logs', total: LOGS_PER_CIRCUIT },
  ];
  for (const list of lists)
    it(`${list.url} says whether more than limit matched`, async t => {
      const app = await buildTestApp(t);
      await ingest(app);
      const all = (await app.inject(`${list.url}?limit=${list.total}`)).json<Record<string, unknown[]>>()[list.field]!;
      const rows = [
        { limit: list.total - 1, listed: list.total - 1, truncated: true },
        { limit: list.total, listed: list.total, truncated: false },
        { limit: list.total + 1, listed: list.total, truncated: false },
      ];
      for (const r of rows) {
        const res = await app.inject(`${list.url}?limit=${r.limit}`);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<Record<string, unknown>>();
        const items = body[list.field] as unknown[];
        assert.deepEqual([items.length, body.truncated], [r.listed, r.truncated], `limit ${r.limit}`);
        // The first of the same order: the one more asked for is not shown.
        assert.deepEqual(items, all.slice(0, r.listed), `limit ${r.limit} lists the first ${r.listed}`);
      }
    });

  it('/api/logs and a circuit\'s logs list 100 and 500 without a limit, and say they cut', async t => {
    const app = await buildTestApp(t);
    const records = await buildLogs(
      'beorn',
      Array.from({ length: 501 }, (_, j) => ({ body: `line ${j}`, atMs: T0 + j, attributes: { circuit_id: 'LT-MANY' } })),
    );
    await postAccepted(app, '/v1/logs', logsProtobuf(records));
    for (const [url, listed] of [['/api/logs', 100], ['/api/circuits/LT-MANY/logs', 500]] as const) {
      const body = (await app.inject(url)).json<LogListResponse>();
      assert.deepEqual([body.logs.length, body.truncated], [listed, true], url);
    }
  });

  it("a circuit's logs in a time range: those in it, both ends included", async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    // LT-1's four logs are at T0 + 60 s + 0, 10, 20 and 30 ms.
    const rows = [
      { from: T0 + 60_010, to: T0 + 60_020, bodies: ['step 6', 'step 5'] },
      { from: T0 + 60_031, to: T0 + 120_000, bodies: [] },
      { from: new Date(T0).toISOString(), to: new Date(T0 + 60_000).toISOString(), bodies: ['step 4'] },
    ];
    for (const r of rows) {
      const res = await app.inject(`/api/circuits/LT-1/logs?from=${r.from}&to=${r.to}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<LogListResponse>().logs.map(l => l.body), r.bodies, `${r.from}..${r.to}`);
    }
    const refused = await app.inject(`/api/circuits/LT-1/logs?from=${T0 + 1}&to=${T0}`);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.match(refused.json<ErrorResponse>().message, /from/);
  });

  it("a circuit's logs by a case-insensitive piece of their body, in a time range too", async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    // LT-1's logs are "step 4" to "step 7"; LT-0's "step 0" to "step 3" are not its own.
    const rows = [
      { query: 'search=STEP%205', bodies: ['step 5'] },
      { query: 'search=step%203', bodies: [] },
      { query: 'search=ep%20', bodies: ['step 7', 'step 6', 'step 5', 'step 4'] },
      { query: `search=step&from=${T0 + 60_010}&to=${T0 + 60_020}`, bodies: ['step 6', 'step 5'] },
    ];
    for (const r of rows) {
      const res = await app.inject(`/api/circuits/LT-1/logs?${r.query}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<LogListResponse>().logs.map(l => l.body), r.bodies, r.query);
    }
  });
});
