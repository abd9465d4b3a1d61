// Times no clock explains (item-times.ts), through the API: a span ending in 2554 kept its circuit
// for ever and pulled later, unrelated traces of it into one correlation with false bridges; a
// log record dated in 2500 was never swept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, LogBatchResponse, LogListResponse, TraceDetail } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { otlpTypes } from '../../src/otlp/schema.js';
import { buildLogs, buildTraces, logsProtobuf, setSpanTimes, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const MS = 1_000_000n;
const Y2000 = BigInt(Date.UTC(2000, 0, 1)) * MS;
const MAX_U64 = 2n ** 64n - 1n;

async function postTraces(app: FastifyInstance, payload: Buffer): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload });
  assert.equal(res.statusCode, 200, res.body);
  const { partialSuccess } = otlpTypes().ExportTraceServiceResponse.decode(res.rawPayload).toJSON() as { partialSuccess?: { errorMessage: string } };
  return partialSuccess?.errorMessage ?? '';
}

/** A trace of one span of `service` in circuit `circuitId`, from `startMs`, ending at `endNs` if given. */
async function oneSpan(service: string, circuitId: string, startMs: number, endNs?: bigint, seed = 1): Promise<{ traceId: string; body: Buffer }> {
  const [t] = await buildTraces([{ service, spans: [{ name: service, startMs, endMs: startMs + 500, attributes: { circuit_id: circuitId } }] }], seed);
  if (endNs !== undefined) setSpanTimes(t!.spans[0]!, BigInt(startMs) * 1_000_000n, endNs);
  return { traceId: t!.traceId, body: tracesProtobuf(t!.spans) };
}

describe('times no clock explains, through the API', () => {
  it('keeps a span ending in 2554 from pulling later traces of its circuit into its episode', async t => {
    const app = await buildTestApp(t, { CORR_WINDOW_SECONDS: '60' });
    const now = Date.now();
    const bogus = await oneSpan('beorn', 'CKT-BOGUS-END', now - 30 * MIN, MAX_U64, 1);
    const message = await postTraces(app, bogus.body);
    assert.match(message, /^1 warning\(s\): resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: span "beorn" in trace [0-9a-f]{32}: end_time_unix_nano 18446744073709551615 \(2554-07-21T23:34:33\.709Z\) is over an hour past both/);
    // 20 and 30 minutes later, far outside the 60 s window of the first trace's true extent.
    await postAccepted(app, '/v1/traces', (await oneSpan('arda', 'CKT-BOGUS-END', now - 10 * MIN, undefined, 2)).body);
    await postAccepted(app, '/v1/traces', (await oneSpan('mdso', 'CKT-BOGUS-END', now - 1000, undefined, 3)).body);
    const detail = (await app.inject('/api/circuits/CKT-BOGUS-END')).json<CircuitDetail>();
    assert.equal(detail.summary.bridgeCount, 0, JSON.stringify(detail.bridges));
    assert.ok(detail.summary.lastSeenMs < now + MIN, `lastSeen ${detail.summary.lastSeen}`);
    // The views show the end the extent has.
    const trace = (await app.inject(`/api/traces/${bogus.traceId}`)).json<TraceDetail>();
    assert.equal(trace.spans[0]!.endTimeUnixNano, trace.spans[0]!.startTimeUnixNano);
    assert.equal(trace.summary.durationMs, 0);
  });

  it('lets retention delete a span ending in 2554', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    await postTraces(app, (await oneSpan('beorn', 'CKT-IMMORTAL', now - 10 * MIN, MAX_U64)).body);
    const steps = app.correlator.store.pruneStepwise(now - MIN);
    while (!steps.next().done);
    assert.equal((await app.inject('/api/circuits/CKT-IMMORTAL')).statusCode, 404);
  });

  it('rejects a span starting more than a day ahead, naming it', async t => {
    const app = await buildTestApp(t);
    const ahead = await oneSpan('beorn', 'CKT-AHEAD', Date.now() + 2 * 86_400_000);
    assert.match(
      await postTraces(app, ahead.body),
      /^1 span\(s\) rejected: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: span "beorn" in trace [0-9a-f]{32} has no start time: start_time_unix_nano \d{19} \(\S+Z\) is more than a day ahead of this server's clock/,
    );
    assert.equal((await app.inject('/api/circuits/CKT-AHEAD')).statusCode, 404);
  });

  it('rejects a span starting in 1971 and ending now, naming it, and keeps its circuit dated by the rest', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    const unset = await oneSpan('beorn', 'CKT-1971', Date.UTC(1971, 0, 1), BigInt(now) * 1_000_000n, 1);
    assert.match(
      await postTraces(app, unset.body),
      /^1 span\(s\) rejected: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: span "beorn" in trace [0-9a-f]{32} has no start time: start_time_unix_nano 31536000000000000 \(1971-01-01T00:00:00\.000Z\) is not after 2000-01-01T00:00:00Z \(to the microsecond\), a clock not yet set when the span began, whatever its end_time_unix_nano \d{19} \(\S+Z\) \(check the sender's clock\)$/,
    );
    await postAccepted(app, '/v1/traces', (await oneSpan('arda', 'CKT-1971', now - 1000, undefined, 2)).body);
    const detail = (await app.inject('/api/circuits/CKT-1971')).json<CircuitDetail>();
    assert.deepEqual([detail.summary.traceCount, detail.summary.spanCount], [1, 1]);
    assert.ok(detail.summary.firstSeenMs > now - MIN, `first seen ${detail.summary.firstSeen}`);
    assert.equal((await app.inject(`/api/traces/${unset.traceId}`)).statusCode, 404);
  });

  it('refuses, in one JSON batch, each span a clock not yet set started, and dates its trace by the rest', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    // Each was stored, dating its trace and circuit from 1971 or 2000: listed in a range of 1990,
    // after restart and retention sweeps, with a 26-year bridge to the circuit's other trace.
    const unset: Array<{ name: string; startMs: number; endNs: bigint; end: RegExp }> = [
      // Its end, judged unknown first, was taken as its start: 0 ms of 1971, warned of as an end.
      { name: '1971-to-3h-ahead', startMs: Date.UTC(1971, 0, 1), endNs: BigInt(now + 3 * HOUR) * MS, end: /\d{19} \(\S+Z\)/ },
      { name: 'reset-chip-to-now', startMs: Date.UTC(2000, 0, 1), endNs: BigInt(now - 2000) * MS, end: /\d{19} \(\S+Z\)/ },
      { name: 'all-of-1999', startMs: Date.UTC(1999, 0, 1), endNs: BigInt(Date.UTC(1999, 0, 2)) * MS, end: /915235200000000000 \(1999-01-02T00:00:00\.000Z\)/ },
    ];
    const circuit = { circuit_id: 'CKT-CLOCK' };
    const [clk, clk2] = await buildTraces([
      {
        service: 'clk',
        spans: [
          { name: 'current', startMs: now - 5000, endMs: now - 4000, attributes: circuit },
          ...unset.map(u => ({ name: u.name, parent: 'current', startMs: now - 4900, endMs: now - 4800, attributes: circuit })),
        ],
      },
      { service: 'clk2', spans: [{ name: 'other-trace', startMs: now - 3000, endMs: now - 2500, attributes: circuit }] },
    ]);
    for (const u of unset) setSpanTimes(clk!.spans.find(s => s.name === u.name)!, BigInt(u.startMs) * MS, u.endNs);
    const res = await app.inject({ method: 'POST', url: '/v1/traces', payload: tracesJson([...clk!.spans, ...clk2!.spans]) as object });
    assert.equal(res.statusCode, 200, res.body);
    const { partialSuccess } = res.json<{ partialSuccess?: { rejectedSpans: string; errorMessage: string } }>();
    assert.equal(partialSuccess?.rejectedSpans, String(unset.length), res.body);
    for (const u of unset) {
      const start = `${BigInt(u.startMs) * MS} \\(${new Date(u.startMs).toISOString().replace(/\./g, '\\.')}\\)`;
      assert.match(
        partialSuccess.errorMessage,
        new RegExp(
          `span "${u.name}" in trace ${clk!.traceId} has no start time: start_time_unix_nano ${start} is not after 2000-01-01T00:00:00Z ` +
            `\\(to the microsecond\\), a clock not yet set when the span began, whatever its end_time_unix_nano ${u.end.source} \\(check`,
        ),
      );
    }
    const trace = (await app.inject(`/api/traces/${clk!.traceId}`)).json<TraceDetail>();
    assert.deepEqual(trace.spans.map(s => s.name).filter(n => !n.endsWith('_bridge')), ['current']);
    // Bridge spans included: none reaches back to 1971 or 2000.
    for (const s of trace.spans) assert.ok(s.startTimeMs > now - MIN && s.durationMs < MIN, `${s.name} ${s.startTimeMs} ${s.durationMs}`);
    assert.ok(trace.summary.startTimeMs > now - MIN && trace.summary.durationMs < MIN, JSON.stringify(trace.summary));
    const detail = (await app.inject('/api/circuits/CKT-CLOCK')).json<CircuitDetail>();
    assert.ok(detail.summary.firstSeenMs > now - MIN, `first seen ${detail.summary.firstSeen}`);
    const in1990 = (await app.inject('/api/circuits/CKT-CLOCK?from=1990-01-01T00:00:00Z&to=1990-01-02T00:00:00Z')).json<CircuitDetail>();
    assert.deepEqual(in1990.traces, []);
  });

  it('takes a span from a microsecond after 2000-01-01T00:00:00Z, and refuses one from it', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    const cases: Array<[string, bigint, 'taken' | 'refused']> = [
      ['at 2000', Y2000, 'refused'],
      ['499 ns after 2000', Y2000 + 499n, 'refused'],
      ['a microsecond after 2000', Y2000 + 1000n, 'taken'],
    ];
    for (const [name, startNs, outcome] of cases) {
      const [built] = await buildTraces([{ service: 'beorn', spans: [{ name, startMs: now, endMs: now + 1, attributes: { circuit_id: 'CKT-Y2K' } }] }], cases.length + 1);
      setSpanTimes(built!.spans[0]!, startNs, BigInt(now - 1000) * MS);
      const message = await postTraces(app, tracesProtobuf(built!.spans));
      const stored = await app.inject(`/api/traces/${built!.traceId}`);
      if (outcome === 'refused') {
        assert.match(message, new RegExp(`^1 span\\(s\\) rejected: .*span "${name}" .*is not after 2000-01-01T00:00:00Z \\(to the microsecond\\), a clock not yet set`), name);
        assert.equal(stored.statusCode, 404, name);
      } else {
        assert.equal(message, '', name);
        assert.equal(stored.json<TraceDetail>().spans[0]!.startTimeUnixNano, startNs.toString(), name);
      }
    }
  });

  it('dates a log record of 2500 by its observed time, and refuses one on the JSON batch', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    const year2500 = Date.UTC(2500, 0, 1);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/logs',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: logsProtobuf(await buildLogs('arda', [{ body: 'circuit_id=CKT-LOG-2500 up', atMs: year2500 }])),
    });
    const { partialSuccess } = otlpTypes().ExportLogsServiceResponse.decode(res.rawPayload).toJSON() as { partialSuccess?: { errorMessage: string } };
    assert.match(
      partialSuccess?.errorMessage ?? '',
      /^1 warning\(s\): resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]: time_unix_nano 16725225600000000000 \(2500-01-01T00:00:00\.000Z\) is more than a day ahead of this server's clock, further than any clock is off: taken as unknown, the record is dated by its observed time$/,
      res.body,
    );
    const { logs } = (await app.inject('/api/logs?circuit_id=CKT-LOG-2500')).json<LogListResponse>();
    assert.equal(logs.length, 1);
    assert.ok(Math.abs(logs[0]!.timeMs - now) < MIN, `dated ${new Date(logs[0]!.timeMs).toISOString()}`);
    const steps = app.correlator.store.pruneStepwise(now + MIN);
    while (!steps.next().done);
    assert.equal((await app.inject('/api/logs?circuit_id=CKT-LOG-2500')).json<LogListResponse>().logs.length, 0, 'swept');

    const batch = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'arda' }, records: [{ timestamp: '2500-01-01T00:00:00Z', message: 'x', circuit_id: 'CKT-B' }] },
    });
    const body = batch.json<LogBatchResponse>();
    assert.deepEqual([body.accepted, body.rejected], [0, 1], batch.body);
    assert.match(body.errors[0]!.message, /^timestamp 2500-01-01T00:00:00Z is more than a day ahead of this server's clock/);
  });

  it('refuses a JSON batch record dated at or before 2000 (a clock not yet set, or OTLP\'s unset 0), naming it, and keeps the others', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    const unsetZero = "is not after 1970-01-01T00:00:00Z (to the microsecond), which OTLP takes as unset: the record has no time (check the sender's clock)";
    const unsetClock = "is not after 2000-01-01T00:00:00Z (to the microsecond), a clock not yet set: the record has no time (check the sender's clock)";
    // [timestamp, message, why it is refused, or null when it is taken]
    const cases: Array<[string, string, string | null]> = [
      [new Date(now - 1000).toISOString(), 'before', null],
      ['1970-01-01T00:00:00Z', 'epoch', unsetZero],
      ['1969-12-31T23:59:59.999Z', 'before the epoch', unsetZero],
      // Under a microsecond reads as 0, as an OTLP time does.
      ['1970-01-01T00:00:00.000000499Z', 'half a microsecond', unsetZero],
      ['1970-01-01T01:00:00+01:00', 'the epoch in another zone', unsetZero],
      // A clock not yet set, as an OTLP record's time is (item-times.ts): this record has no other.
      ['1970-01-01T00:00:00.000001Z', 'a microsecond', unsetClock],
      ['1971-01-01T00:00:00Z', '1971', unsetClock],
      ['2000-01-01T00:00:00Z', 'a reset clock chip', unsetClock],
      ['2000-01-01T01:00:00+01:00', 'a reset clock chip in another zone', unsetClock],
      ['2000-01-01T00:00:00.000000499Z', 'half a microsecond after 2000', unsetClock],
      // A microsecond after it is a time OTLP takes: older than retention, stored with a warning.
      ['2000-01-01T00:00:00.000001Z', 'a microsecond after 2000', null],
      [new Date(now).toISOString(), 'after', null],
    ];
    const res = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'arda' }, records: cases.map(([timestamp, message]) => ({ timestamp, message, circuit_id: 'CKT-EPOCH' })) },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<LogBatchResponse>();
    const refused = cases.flatMap(([timestamp, , why], index) => (why ? [{ index, message: `timestamp ${timestamp} ${why}` }] : []));
    assert.deepEqual([body.accepted, body.rejected], [cases.length - refused.length, refused.length], res.body);
    assert.deepEqual(body.errors, refused);
    assert.match(body.warnings.join('\n'), /^1 log record\(s\) older than the retention/m);
    const { logs } = (await app.inject('/api/logs?circuit_id=CKT-EPOCH')).json<LogListResponse>();
    const taken = [['a microsecond after 2000', Date.UTC(2000, 0, 1) + 0.001], ['after', now], ['before', now - 1000]];
    assert.deepEqual(logs.map(l => [l.body, l.timeMs]).sort(), taken);
  });
});
