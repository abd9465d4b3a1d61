// Two stores holding the same data answer every list alike, whatever order the data came in: items
// that tie on their time are ordered by what they are (list-order.ts), not by when they were
// received, so a `limit` cuts both lists at the same item.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildLogs, buildTraces, logsProtobuf, SpanKind, tracesProtobuf, type BuiltTrace } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

// Recent, whole minutes: every trace of every circuit ends at END, and every log is at END.
const START = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
const END = START + 100;
const CIRCUITS = ['TIE-0', 'TIE-1', 'TIE-2', 'TIE-3', 'TIE-4', 'TIE-5'];
const LOGS_PER_CIRCUIT = 3;

interface Request {
  url: string;
  body: Buffer;
}

/**
 * Each circuit: a beorn trace calling arda and mdso, and a poll by a service of its own, all ending at END (one
 * correlation per circuit, all with the same lastSeen; circuits with the same last datum), and
 * three logs of the beorn trace at END. One request per trace's service and per log, in circuit order.
 */
async function requestsInCircuitOrder(): Promise<{ requests: Request[]; beornTraces: BuiltTrace[] }> {
  const requests: Request[] = [];
  const beornTraces: BuiltTrace[] = [];
  for (const [i, circuit] of CIRCUITS.entries()) {
    const attributes = { circuit_id: circuit };
    const [beorn, poll] = await buildTraces(
      [
        { service: 'beorn', spans: [{ name: 'activate', kind: SpanKind.CLIENT, startMs: START, endMs: END, attributes }] },
        { service: `poller-${i}`, spans: [{ name: 'poll', kind: SpanKind.INTERNAL, startMs: START, endMs: END, attributes }] },
      ],
      i + 1,
    );
    const caller = { traceId: beorn!.traceId, spanId: beorn!.spanIds.activate! };
    const called = await buildTraces(
      ['arda', 'mdso'].map(service => ({
        service,
        spans: [{ name: 'configure', kind: SpanKind.SERVER, startMs: START + 20, endMs: END - 10, attributes, remoteParent: caller }],
      })),
      100 + i,
    );
    beornTraces.push(beorn!);
    for (const t of [beorn!, ...called, poll!]) requests.push({ url: '/v1/traces', body: tracesProtobuf(t.spans) });
    const logs = await buildLogs(
      'beorn',
      Array.from({ length: LOGS_PER_CIRCUIT }, (_, j) => ({
        body: `${circuit} step ${j}`,
        atMs: END,
        attributes,
        traceId: beorn!.traceId,
        spanId: caller.spanId,
      })),
    );
    for (const l of logs) requests.push({ url: '/v1/logs', body: logsProtobuf([l]) });
  }
  return { requests, beornTraces };
}

async function storeFedWith(t: TestContext, requests: readonly Request[]): Promise<FastifyInstance> {
  const app = await buildTestApp(t);
  for (const r of requests) await postAccepted(app, r.url, r.body);
  return app;
}

/** The answer, without the log ids: those are the store's row numbers, which name a row, not a log. */
async function answer(app: FastifyInstance, url: string): Promise<unknown> {
  const res = await app.inject(url);
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  const body = res.json<{ logs?: { id?: string }[] }>();
  for (const l of body.logs ?? []) delete l.id;
  return body;
}

describe('lists of items that tie on their time', () => {
  it('are cut at the same items by two stores fed the same data in opposite orders', async t => {
    const { requests, beornTraces } = await requestsInCircuitOrder();
    const inOrder = await storeFedWith(t, requests);
    const reversed = await storeFedWith(t, [...requests].reverse());
    const circuit = CIRCUITS[2]!;
    const trace = beornTraces[2]!.traceId;
    const lists: [string, string][] = [
      ['/api/correlations?', 'correlations'],
      ['/api/logs?', 'logs'],
      ['/api/circuits?', 'circuits'],
      [`/api/circuits/${circuit}/logs?`, 'logs'],
      [`/api/correlations?circuit_id=${circuit}&`, 'correlations'],
      [`/api/correlations?circuit_id=${circuit}&from=${START}&`, 'correlations'],
      [`/api/correlations?trace_id=${trace}&`, 'correlations'],
    ];
    for (const [list, field] of lists) {
      const total = ((await answer(inOrder, `${list}limit=1000`)) as Record<string, unknown[]>)[field]!.length;
      assert.ok(total > 1, `${list}: ${total} items`);
      for (let limit = 1; limit <= total; limit++) {
        const url = `${list}limit=${limit}`;
        assert.deepEqual(await answer(reversed, url), await answer(inOrder, url), url);
      }
    }
    for (const url of ['/api/service-graph', `/api/service-graph?circuit_id=${circuit}`])
      assert.deepEqual(await answer(reversed, url), await answer(inOrder, url), url);
    // The graph of a range's most recent traces, cut among traces that end at the same time.
    const traces = CIRCUITS.length * 2;
    for (let maxTraces = 1; maxTraces <= traces; maxTraces++) {
      const [a, b] = [inOrder, reversed].map(app => app.correlator.store.serviceGraph({ maxTraces }));
      assert.deepEqual(await b, await a, `service graph of the ${maxTraces} most recent traces`);
    }
    // The details' lists (their resource ids and bridges' times are the store's own).
    for (const [url, fields] of [[`/api/traces/${trace}`, ['correlations']], [`/api/circuits/${circuit}`, ['traces', 'correlations']]] as const) {
      const [a, b] = [await answer(inOrder, url), await answer(reversed, url)] as Record<string, unknown>[];
      for (const f of fields) assert.deepEqual(b![f], a![f], `${url} ${f}`);
    }
    // The lists held ties to break: every correlation, circuit and log ends at the same time.
    const correlations = (await answer(inOrder, '/api/correlations')) as { correlations: { lastSeen: string }[] };
    assert.equal(new Set(correlations.correlations.map(c => c.lastSeen)).size, 1);
    const graph = (await answer(inOrder, '/api/service-graph')) as { edges: unknown[]; nodes: unknown[] };
    assert.ok(graph.nodes.length === 3 + CIRCUITS.length && graph.edges.length > 1, JSON.stringify(graph));
  });
});
