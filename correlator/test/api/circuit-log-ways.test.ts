// A circuit's logs come three ways: by their own circuit key, by a further circuit a key array
// names (log_circuits), and through a trace of the circuit. They were read as one OR, every line of
// the circuit sorted to list the newest `limit` (200–270 ms for 100,000 lines); each way is now cut
// at the limit on its own and their union cut again. The lists must be those of the one query:
// each line once, in the list's order, `truncated` as before, whatever the limit and filters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildLogs, buildTraces, logsJson, tracesJson, type LogSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const CIRCUIT = 'WAYS-1';
const AT = Date.now() - 120_000;

/** Lines of each way, and of none, interleaved in time: line i at AT + i seconds. */
async function circuitWithEveryWay(app: FastifyInstance): Promise<void> {
  const [activation] = await buildTraces([
    { service: 'beorn', spans: [{ name: 'activate', startMs: AT, endMs: AT + 30_000, attributes: { circuit_id: CIRCUIT } }] },
  ]);
  await postAccepted(app, '/v1/traces', tracesJson(activation!.spans) as object);
  const ways: ((i: number) => Partial<LogSpec>)[] = [
    () => ({ attributes: { circuit_id: CIRCUIT } }),
    () => ({ attributes: { circuit_id: ['OTHER-1', CIRCUIT] } }),
    () => ({ traceId: activation!.traceId }),
    // Both its own key and the circuit's trace: one line, listed once.
    () => ({ traceId: activation!.traceId, attributes: { circuit_id: CIRCUIT } }),
    // Another circuit's, in between: never listed.
    () => ({ attributes: { circuit_id: 'OTHER-2' } }),
  ];
  const specs: LogSpec[] = [];
  for (let i = 0; i < 25; i++) {
    const error = i % 3 === 0;
    specs.push({
      body: `line ${String(i).padStart(2, '0')} way ${i % ways.length}${error ? ' failed' : ''}`,
      atMs: AT + i * 1000,
      severity: error ? 17 : 9,
      severityText: error ? 'ERROR' : 'INFO',
      ...ways[i % ways.length]!(i),
    });
  }
  // Two lines of one millisecond, of two ways: the order within a time is the store's too.
  specs.push({ body: 'tie way 0', atMs: AT + 30_000, attributes: { circuit_id: CIRCUIT } }, { body: 'tie way 2', atMs: AT + 30_000, traceId: activation!.traceId });
  await postAccepted(app, '/v1/logs', logsJson(await buildLogs('mdso', specs)) as object);
}

async function list(app: FastifyInstance, url: string): Promise<[string[], boolean]> {
  const res = await app.inject(url);
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  const { logs, truncated } = res.json<LogListResponse>();
  return [logs.map(l => l.body as string), truncated];
}

describe("a circuit's logs, by every way a line is the circuit's", () => {
  it('lists each line once, in order, cut at any limit as the whole list is', async t => {
    const app = await buildTestApp(t);
    await circuitWithEveryWay(app);
    const [all] = await list(app, `/api/circuits/${CIRCUIT}/logs?limit=1000`);
    const expected = Array.from({ length: 25 }, (_, i) => i)
      .filter(i => i % 5 !== 4)
      .map(i => `line ${String(i).padStart(2, '0')} way ${i % 5}${i % 3 === 0 ? ' failed' : ''}`);
    // Newest first; the tie's order is the store's (by content hash), so it is read, not assumed.
    assert.deepEqual(all.slice(2).reverse(), expected, 'every way, each line once, newest first');
    assert.deepEqual([...all.slice(0, 2)].sort(), ['tie way 0', 'tie way 2']);
    const filters = ['', '&min_severity=error', '&search=way%202', `&from=${AT + 5000}&to=${AT + 20_000}`, '&direction=forward'];
    for (const filter of filters) {
      const [whole] = await list(app, `/api/circuits/${CIRCUIT}/logs?limit=1000${filter}`);
      assert.ok(whole.length > 0, filter);
      for (const route of [`/api/circuits/${CIRCUIT}/logs?`, `/api/logs?circuit_id=${CIRCUIT}&`])
        for (const limit of [1, 2, 3, 5, 8, whole.length - 1, whole.length]) {
          if (limit < 1) continue;
          assert.deepEqual(await list(app, `${route}limit=${limit}${filter}`), [whole.slice(0, limit), whole.length > limit], `${route}limit=${limit}${filter}`);
        }
    }
    // The filters hold on every way: only ERROR lines, only way 2's, only the range's.
    assert.deepEqual((await list(app, `/api/circuits/${CIRCUIT}/logs?min_severity=error`))[0].reverse(), expected.filter(b => b.endsWith('failed')));
    assert.deepEqual((await list(app, `/api/circuits/${CIRCUIT}/logs?search=way%202`))[0].filter(b => !b.startsWith('tie')).reverse(), expected.filter(b => b.includes('way 2')));
  });
});
