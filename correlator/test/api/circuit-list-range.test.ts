// GET /api/circuits with a range lists the circuits with data in it, as a circuit's detail, its
// stitched view and its logs take the circuit in a range: a trace of it with a datum in the range,
// or a log naming it in the range. status, status= and service= are of those data; the summary's
// counts stay the circuit's. A circuit that failed at T and was polled OK at T+2h is no error
// circuit of the hour between, nor of T+2h.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, CircuitListResponse, CircuitSummary, LogListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const MIN = 60_000;
const H = 60 * MIN;
// Within the last day: older data gets retention warnings.
const T = Math.floor((Date.now() - 6 * H) / MIN) * MIN;

/**
 * GAP-1: an error trace (beorn) at T, an OK trace (arda) at T+2h.
 * MID-2: OK beorn traces at T+1m and T+2h+1m, an error arda trace at T+1h+1m.
 * LOGS-3: logs of no trace only (scripts): INFO at T+2m, ERROR at T+1h+2m, INFO at T+2h+2m.
 * ONELOG-4: one INFO log of no trace (mdso) at T+1h+3m.
 * MULTI-5: beorn traces at T+5m and T+2h+5m, and the child span of a report trace at T+1h+4m whose
 * root names REPORT-6 (the trace is of both circuits, MULTI-5 among its further key values).
 * BIG-7: more traces than a circuit's own are looked at for its status (FEW_TRACES): 64 OK beorn
 * traces from T+3h, an error one at T+4h, an OK one at T+5h.
 */
async function ingest(app: FastifyInstance): Promise<void> {
  const span = (name: string, at: number, circuit: string, error = false) => ({ name, startMs: at, endMs: at + 100, attributes: { circuit_id: circuit }, error });
  const built = await buildTraces([
    { service: 'beorn', spans: [span('activate', T, 'GAP-1', true)] },
    { service: 'arda', spans: [span('poll', T + 2 * H, 'GAP-1')] },
    { service: 'beorn', spans: [span('activate', T + MIN, 'MID-2')] },
    { service: 'arda', spans: [span('configure', T + H + MIN, 'MID-2', true)] },
    { service: 'beorn', spans: [span('poll', T + 2 * H + MIN, 'MID-2')] },
    { service: 'beorn', spans: [span('activate', T + 5 * MIN, 'MULTI-5')] },
    {
      service: 'reports',
      spans: [span('report', T + H + 4 * MIN, 'REPORT-6'), { ...span('row', T + H + 4 * MIN + 10, 'MULTI-5'), parent: 'report' }],
    },
    { service: 'beorn', spans: [span('poll', T + 2 * H + 5 * MIN, 'MULTI-5')] },
    ...Array.from({ length: 64 }, (_, k) => ({ service: 'beorn', spans: [span('poll', T + 3 * H + k * 1000, 'BIG-7')] })),
    { service: 'beorn', spans: [span('poll', T + 4 * H, 'BIG-7', true)] },
    { service: 'beorn', spans: [span('poll', T + 5 * H, 'BIG-7')] },
  ]);
  await postAccepted(app, '/v1/traces', tracesProtobuf(built.flatMap(t => t.spans)));
  const log = (circuit: string, atMs: number, error = false) => ({
    body: `${circuit} ${error ? 'failed' : 'ok'}`,
    atMs,
    attributes: { circuit_id: circuit },
    ...(error ? { severity: SeverityNumber.ERROR, severityText: 'ERROR' } : {}),
  });
  await postAccepted(
    app,
    '/v1/logs',
    logsProtobuf(await buildLogs('scripts', [log('LOGS-3', T + 2 * MIN), log('LOGS-3', T + H + 2 * MIN, true), log('LOGS-3', T + 2 * H + 2 * MIN)])),
  );
  await postAccepted(app, '/v1/logs', logsProtobuf(await buildLogs('mdso', [log('ONELOG-4', T + H + 3 * MIN)])));
}

async function list(app: FastifyInstance, query: string): Promise<CircuitSummary[]> {
  const res = await app.inject(`/api/circuits?${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<CircuitListResponse>().circuits;
}

const ALL = ['BIG-7', 'MULTI-5', 'LOGS-3', 'MID-2', 'GAP-1', 'REPORT-6', 'ONELOG-4'];
const range = (from: number, to: number) => `from=${from}&to=${to}`;
const GAP = range(T + 10 * MIN, T + 50 * MIN);
const MIDDLE = range(T + 30 * MIN, T + 90 * MIN);
const EARLY = range(T - MIN, T + 3 * MIN);
const LATE = range(T + 2 * H - MIN, T + 2 * H + 3 * MIN);
const BIG_ERROR = range(T + 3 * H + 30 * MIN, T + 4 * H + 30 * MIN);
const BIG_OK = range(T + 4 * H + 30 * MIN, T + 5 * H + 30 * MIN);

describe('GET /api/circuits in a time range', () => {
  it('lists the circuits with data in the range, with their status there and their own counts', async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    const whole = new Map((await list(app, '')).map(c => [c.circuitId, c]));
    // [query, circuits listed, most recent first: id and status]
    const rows: [string, string[]][] = [
      // No range: the circuits' whole lives, as before.
      ['', ['BIG-7:error', 'MULTI-5:ok', 'LOGS-3:error', 'MID-2:error', 'GAP-1:error', 'REPORT-6:ok', 'ONELOG-4:ok']],
      ['status=error', ['BIG-7:error', 'LOGS-3:error', 'MID-2:error', 'GAP-1:error']],
      ['status=ok', ['MULTI-5:ok', 'REPORT-6:ok', 'ONELOG-4:ok']],
      ['service=arda', ['MID-2:error', 'GAP-1:error']],
      ['service=arda&status=error', ['MID-2:error', 'GAP-1:error']],
      // GAP-1 has no datum between T and T+2h; nor have the others between T+10m and T+50m.
      [GAP, []],
      [`status=error&service=arda&${GAP}`, []],
      // Each through a datum inside a longer life: MID-2's and MULTI-5's traces, LOGS-3's log.
      [MIDDLE, ['MULTI-5:ok', 'LOGS-3:error', 'MID-2:error', 'REPORT-6:ok', 'ONELOG-4:ok']],
      [`status=error&${MIDDLE}`, ['LOGS-3:error', 'MID-2:error']],
      [`status=ok&${MIDDLE}`, ['MULTI-5:ok', 'REPORT-6:ok', 'ONELOG-4:ok']],
      [`service=arda&${MIDDLE}`, ['MID-2:error']],
      [`service=scripts&${MIDDLE}`, ['LOGS-3:error']],
      [`service=reports&${MIDDLE}`, ['MULTI-5:ok', 'REPORT-6:ok']],
      [`service=beorn&${MIDDLE}`, []],
      [`service=mdso&${MIDDLE}`, ['ONELOG-4:ok']],
      // Only the OK polls: no circuit failed in it, though three did before.
      [LATE, ['LOGS-3:ok', 'MID-2:ok', 'GAP-1:ok']],
      [`status=error&${LATE}`, []],
      [`status=ok&${LATE}`, ['LOGS-3:ok', 'MID-2:ok', 'GAP-1:ok']],
      [`service=arda&${LATE}`, ['GAP-1:ok']],
      [`service=arda&status=error&${LATE}`, []],
      [EARLY, ['LOGS-3:ok', 'MID-2:ok', 'GAP-1:error']],
      [`status=error&${EARLY}`, ['GAP-1:error']],
      [`service=arda&${EARLY}`, []],
      [`service=beorn&status=error&${EARLY}`, ['GAP-1:error']],
      // From or to alone.
      [`from=${T + 2 * H + 2 * MIN}`, ['BIG-7:error', 'MULTI-5:ok', 'LOGS-3:ok']],
      [BIG_ERROR, ['BIG-7:error']],
      [`status=error&${BIG_ERROR}`, ['BIG-7:error']],
      [BIG_OK, ['BIG-7:ok']],
      [`status=error&${BIG_OK}`, []],
      [`status=ok&${BIG_OK}`, ['BIG-7:ok']],
      [`to=${T + 2 * MIN}`, ['LOGS-3:ok', 'MID-2:ok', 'GAP-1:error']],
      [`query=gap&${GAP}`, []],
      [`query=gap&${LATE}`, ['GAP-1:ok']],
    ];
    for (const [query, expected] of rows) {
      const listed = await list(app, query);
      assert.deepEqual(
        listed.map(c => `${c.circuitId}:${c.status}`),
        expected,
        `/api/circuits?${query}`,
      );
      // Whatever the range, the counts, services and times are the circuit's.
      for (const c of listed) assert.deepEqual({ ...c, status: 'ok' }, { ...whole.get(c.circuitId)!, status: 'ok' }, `${c.circuitId} in ?${query}`);
    }
    assert.deepEqual([...whole.keys()], ALL);
    assert.deepEqual(
      [...whole.values()].map(c => [c.circuitId, c.errorCount, c.traceCount]),
      [['BIG-7', 1, 66], ['MULTI-5', 0, 3], ['LOGS-3', 1, 0], ['MID-2', 1, 3], ['GAP-1', 1, 2], ['REPORT-6', 0, 1], ['ONELOG-4', 0, 0]],
    );
  });

  it('lists under status= in a range exactly the circuits the list without it shows with that status there', async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    // The filter reads the range's error traces (traces_errors_last); a listed circuit's status
    // looks at its own traces when it has few: the two must agree.
    const ranges = [GAP, MIDDLE, EARLY, LATE, BIG_ERROR, BIG_OK, range(T - H, T + 6 * H), range(T + H, T + 5 * H), `from=${T + H + MIN}`, `to=${T + H + MIN}`];
    for (const r of ranges) {
      const listed = await list(app, r);
      for (const status of ['error', 'ok'] as const) {
        assert.deepEqual(
          (await list(app, `status=${status}&${r}`)).map(c => c.circuitId),
          listed.filter(c => c.status === status).map(c => c.circuitId),
          `status=${status}&${r}`,
        );
      }
    }
  });

  it("lists a circuit in a range exactly when its detail or its logs there are not empty", async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    for (const r of [GAP, MIDDLE, EARLY, LATE, BIG_ERROR, BIG_OK, range(T + 2 * H + 3 * MIN, T + 2 * H + 4 * MIN)]) {
      const listed = new Set((await list(app, r)).map(c => c.circuitId));
      for (const id of ALL) {
        const detail = (await app.inject(`/api/circuits/${id}?${r}`)).json<CircuitDetail>();
        const logs = (await app.inject(`/api/circuits/${id}/logs?${r}`)).json<LogListResponse>();
        const hasData = detail.traces.length > 0 || logs.logs.length > 0;
        assert.equal(listed.has(id), hasData, `${id} in ?${r}: listed ${listed.has(id)}, traces ${detail.traces.length}, logs ${logs.logs.length}`);
      }
    }
  });
});
