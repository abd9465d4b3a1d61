// An error log of no trace is an error of its circuit, as an error span is: a circuit known only
// from the logs of the scripts that report MDSO failures was listed as ok, and left out of
// status=error. A trace's ERROR line is its error span's, not a second error; but a trace whose
// spans all succeeded counts its ERROR lines, or a handler that logged a failure and answered 200
// left its circuit listed ok.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { CircuitDetail, CircuitListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf, type BuiltTrace } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const T0 = Date.UTC(2026, 11, 6, 11, 0, 0);

async function circuit(app: FastifyInstance, id: string): Promise<CircuitDetail['summary']> {
  const res = await app.inject(`/api/circuits/${id}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<CircuitDetail>().summary;
}

async function errorCircuits(app: FastifyInstance): Promise<string[]> {
  return (await app.inject('/api/circuits?status=error')).json<CircuitListResponse>().circuits.map(c => c.circuitId).sort();
}

describe('error logs', () => {
  it('a circuit known only from the JSON batch counts its ERROR, FATAL and critical lines as errors', async t => {
    const app = await buildTestApp(t);
    const line = (i: number, severity: string) => ({ timestamp: new Date(T0 + i).toISOString(), severity, message: `line ${i}`, circuit_id: 'CKT-L1' });
    await postAccepted(app, '/api/logs', {
      resource: { service: 'error-report' },
      records: [line(0, 'ERROR'), line(1, 'FATAL'), line(2, 'critical'), line(3, 'INFO'), line(4, 'warn')],
    });
    await postAccepted(app, '/api/logs', { resource: { service: 'error-report' }, records: [{ ...line(5, 'INFO'), circuit_id: 'CKT-L2' }] });
    const c = await circuit(app, 'CKT-L1');
    assert.deepEqual([c.status, c.errorCount, c.logCount], ['error', 3, 5]);
    assert.deepEqual(await errorCircuits(app), ['CKT-L1']);
  });

  it('an OTLP log of no trace with the severity text ERROR alone is an error of the circuit it names', async t => {
    const app = await buildTestApp(t);
    // The SDK's number is left unspecified and the text given alone, as a collector's filelog
    // pipeline sends a parsed level.
    const records = await buildLogs('error-report', [
      { body: 'plan failed', atMs: T0, attributes: { circuit_id: 'CKT-O1' }, severity: SeverityNumber.UNSPECIFIED, severityText: 'ERROR' },
      { body: 'plan retried', atMs: T0 + 1, attributes: { circuit_id: 'CKT-O2' }, severity: SeverityNumber.UNSPECIFIED, severityText: 'INFO' },
    ]);
    await postAccepted(app, '/v1/logs', logsProtobuf(records));
    const c = await circuit(app, 'CKT-O1');
    assert.deepEqual([c.status, c.errorCount, c.logCount], ['error', 1, 1]);
    assert.deepEqual(await errorCircuits(app), ['CKT-O1']);
  });

  it("a trace's ERROR line is not counted beside its error span: one failure is one error, whichever came first", async t => {
    for (const order of ['spans first', 'log first'] as const) {
      const app = await buildTestApp(t);
      const [built] = await buildTraces([
        { service: 'mdso', spans: [{ name: 'activate', startMs: T0, endMs: T0 + 100, error: true, attributes: { circuit_id: 'CKT-T1' } }] },
      ]);
      const span = built!.spans[0]!.spanContext();
      const payload = logsProtobuf(
        await buildLogs('mdso', [
          { body: 'NSO timeout while activating', atMs: T0 + 50, traceId: span.traceId, spanId: span.spanId, severity: SeverityNumber.ERROR, severityText: 'ERROR' },
        ]),
      );
      const sends = [() => postAccepted(app, '/v1/traces', tracesProtobuf(built!.spans)), () => postAccepted(app, '/v1/logs', payload)];
      if (order === 'log first') sends.reverse();
      for (const send of sends) await send();
      const c = await circuit(app, 'CKT-T1');
      assert.deepEqual([c.status, c.errorCount, c.logCount, c.spanCount], ['error', 1, 1, 1], order);
      const detail = (await app.inject(`/api/traces/${span.traceId}`)).json<{ summary: { errorCount: number } }>();
      assert.equal(detail.summary.errorCount, 1, `${order}: the trace's count`);
    }
  });

  it("retention's recount keeps the error lines of no trace", async t => {
    const app = await buildTestApp(t);
    const [old] = await buildTraces([
      { service: 'beorn', spans: [{ name: 'activate', startMs: T0 - 3_600_000, endMs: T0 - 3_599_000, attributes: { circuit_id: 'CKT-R1' } }] },
    ]);
    await postAccepted(app, '/v1/traces', tracesProtobuf(old!.spans));
    await postAccepted(app, '/api/logs', {
      resource: { service: 'error-report' },
      records: [{ timestamp: new Date(T0).toISOString(), severity: 'ERROR', message: 'plan failed', circuit_id: 'CKT-R1' }],
    });
    const steps = app.correlator.store.pruneStepwise(T0 - 60_000);
    let step = steps.next();
    while (!step.done) step = steps.next();
    assert.equal(step.value.traces, 1, 'the old trace is deleted');
    const c = await circuit(app, 'CKT-R1');
    assert.deepEqual([c.status, c.errorCount, c.traceCount, c.logCount], ['error', 1, 0, 1]);
  });

  it("retention's recount counts a trace's ERROR lines when none of its spans failed, and its error spans alone when some did", async t => {
    const app = await buildTestApp(t);
    const [old, flask, failed] = await buildTraces([
      { service: 'beorn', spans: [{ name: 'activate', startMs: T0 - 3_600_000, endMs: T0 - 3_599_000, attributes: { circuit_id: 'CKT-R2' } }] },
      { service: 'flask', spans: [{ name: 'POST /activate', startMs: T0, endMs: T0 + 100, attributes: { circuit_id: 'CKT-R2' } }] },
      { service: 'mdso', spans: [{ name: 'activate', startMs: T0 + 200, endMs: T0 + 300, error: true, attributes: { circuit_id: 'CKT-R2' } }] },
    ]);
    for (const b of [old!, flask!, failed!]) await postAccepted(app, '/v1/traces', tracesProtobuf(b.spans));
    const line = (b: typeof flask, atMs: number) => ({
      body: 'device refused the change',
      atMs,
      traceId: b!.traceId,
      spanId: b!.spans[0]!.spanContext().spanId,
      severity: SeverityNumber.ERROR,
      severityText: 'ERROR',
    });
    await postAccepted(app, '/v1/logs', logsProtobuf(await buildLogs('flask', [line(flask, T0 + 50)])));
    await postAccepted(app, '/v1/logs', logsProtobuf(await buildLogs('mdso', [line(failed, T0 + 250), line(failed, T0 + 260)])));
    const before = await circuit(app, 'CKT-R2');
    assert.deepEqual([before.status, before.errorCount, before.traceCount], ['error', 2, 3], 'as ingest counted: the Flask trace\'s line, the failed trace\'s span');
    const steps = app.correlator.store.pruneStepwise(T0 - 60_000);
    let step = steps.next();
    while (!step.done) step = steps.next();
    assert.equal(step.value.traces, 1, 'the old trace is deleted');
    const after = await circuit(app, 'CKT-R2');
    assert.deepEqual([after.status, after.errorCount, after.traceCount], ['error', 2, 2], 'the recount keeps what ingest counted');
  });
});

/** The app on a data directory that outlives it, so a case can restart it between sends. */
class Restartable {
  app!: FastifyInstance;
  private constructor(private readonly dir: string) {}

  static async start(t: TestContext): Promise<Restartable> {
    const r = new Restartable(await mkdtemp(join(tmpdir(), 'corr-errlogs-')));
    t.after(async () => {
      await r.app.close();
      await rm(r.dir, { recursive: true, force: true });
    });
    await r.open();
    return r;
  }

  private async open(): Promise<void> {
    this.app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: this.dir }) });
    await this.app.ready();
  }

  async restart(): Promise<void> {
    await this.app.close();
    await this.open();
  }
}

interface LineSpec {
  severity: 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  /** The line names the circuit, which the trace may not have named yet. */
  namesCircuit?: boolean;
}

interface TraceCase {
  name: string;
  /** Whether each span failed; the first is the root, the only span that names the circuit. */
  spans: boolean[];
  lines: LineSpec[];
  errors: number;
}

// A trace's errors are its error spans, or when none failed its ERROR-or-worse lines.
const TRACE_CASES: TraceCase[] = [
  { name: 'spans that all succeeded and an ERROR line (a handler that logged a failure and answered 200)', spans: [false, false], lines: [{ severity: 'INFO' }, { severity: 'ERROR' }], errors: 1 },
  { name: 'spans that all succeeded and an ERROR and a FATAL line', spans: [false, false], lines: [{ severity: 'ERROR' }, { severity: 'FATAL' }], errors: 2 },
  { name: 'an ERROR line that names the circuit, of a trace whose spans all succeeded', spans: [false], lines: [{ severity: 'ERROR', namesCircuit: true }], errors: 1 },
  { name: "a failed step and its ERROR line", spans: [false, true], lines: [{ severity: 'ERROR' }], errors: 1 },
  { name: 'a failed root and two ERROR lines of it', spans: [true, false], lines: [{ severity: 'ERROR' }, { severity: 'ERROR', namesCircuit: true }], errors: 1 },
  { name: 'two failed spans and one ERROR line', spans: [true, true], lines: [{ severity: 'ERROR' }], errors: 2 },
  { name: 'spans that all succeeded and INFO and WARN lines', spans: [false, false], lines: [{ severity: 'INFO' }, { severity: 'WARN' }], errors: 0 },
];

type Send = { kind: 'span' | 'line'; i: number } | 'restart';

/** Each span and each line is a request of its own, in these orders. */
const ORDERS: { name: string; sends: (c: TraceCase) => Send[] }[] = [
  { name: 'spans first', sends: c => [...spanSends(c), ...lineSends(c)] },
  { name: 'lines first', sends: c => [...lineSends(c), ...spanSends(c)] },
  { name: 'interleaved, a line first', sends: c => interleave(lineSends(c), [...spanSends(c)].reverse()) },
  { name: 'spans, a restart, lines', sends: c => [...spanSends(c), 'restart', ...lineSends(c)] },
  { name: 'lines, a restart, spans', sends: c => [...lineSends(c), 'restart', ...spanSends(c)] },
];

function spanSends(c: TraceCase): Send[] {
  return c.spans.map((_, i) => ({ kind: 'span', i }));
}

function lineSends(c: TraceCase): Send[] {
  return c.lines.map((_, i) => ({ kind: 'line', i }));
}

function interleave(a: Send[], b: Send[]): Send[] {
  const out: Send[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...(i < a.length ? [a[i]!] : []), ...(i < b.length ? [b[i]!] : []));
  return out;
}

const SEVERITY_NUMBER: Record<LineSpec['severity'], SeverityNumber> = {
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
  FATAL: SeverityNumber.FATAL,
};

describe("a trace's errors are its error spans, or its ERROR lines when no span failed, whatever the order and restarts", () => {
  for (const c of TRACE_CASES) {
    it(`${c.name}: ${c.errors}`, async t => {
      const cid = 'CKT-E1';
      const [built] = await buildTraces([
        {
          service: 'flask',
          spans: c.spans.map((error, i) => ({
            name: i === 0 ? 'POST /activate' : `step ${i}`,
            startMs: T0 + i * 10,
            endMs: T0 + 100,
            error,
            ...(i === 0 ? { attributes: { circuit_id: cid } } : { parent: 'POST /activate' }),
          })),
        },
      ]);
      const spans = built!.spans;
      const root = spans.find(s => s.name === 'POST /activate')!.spanContext();
      const lines = await Promise.all(
        c.lines.map(async (l, i) => {
          const [record] = await buildLogs('flask', [
            {
              body: `line ${i}`,
              atMs: T0 + 50 + i,
              traceId: root.traceId,
              spanId: root.spanId,
              severity: SEVERITY_NUMBER[l.severity],
              severityText: l.severity,
              ...(l.namesCircuit ? { attributes: { circuit_id: cid } } : {}),
            },
          ]);
          return logsProtobuf([record!]);
        }),
      );
      for (const order of ORDERS) {
        const r = await Restartable.start(t);
        for (const send of order.sends(c)) {
          if (send === 'restart') await r.restart();
          else if (send.kind === 'span') await postAccepted(r.app, '/v1/traces', tracesProtobuf([spans.find(s => s.name === (send.i === 0 ? 'POST /activate' : `step ${send.i}`))!]));
          else await postAccepted(r.app, '/v1/logs', lines[send.i]!);
        }
        const status = c.errors > 0 ? 'error' : 'ok';
        const summary = await circuit(r.app, cid);
        assert.deepEqual([summary.status, summary.errorCount, summary.spanCount, summary.logCount], [status, c.errors, c.spans.length, c.lines.length], `${order.name}: the circuit's summary`);
        const listed = (await r.app.inject('/api/circuits')).json<CircuitListResponse>().circuits.find(x => x.circuitId === cid);
        assert.deepEqual(listed && [listed.status, listed.errorCount], [status, c.errors], `${order.name}: the circuit list`);
        assert.deepEqual(await errorCircuits(r.app), c.errors > 0 ? [cid] : [], `${order.name}: status=error`);
        const detail = (await r.app.inject(`/api/traces/${root.traceId}`)).json<{ summary: { errorCount: number } }>();
        assert.equal(detail.summary.errorCount, c.errors, `${order.name}: the trace's count`);
      }
    });
  }
});

describe('the service graph counts errors as the circuit does', () => {
  // RV12: MDSO's failure, reported by a log line of its trace, left every node and edge of the
  // circuit's graph at 0 errors while the circuit was listed as failed.
  it("a trace whose spans succeeded fails its service's node and the bridge into it by its ERROR line; an error span is not counted twice", async t => {
    const app = await buildTestApp(t);
    const cid = 'CKT-G1';
    const [beorn, mdso, arda] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'POST /activate', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 60, attributes: { circuit_id: cid } },
          { name: 'POST', kind: SpanKind.CLIENT, startMs: T0 + 10, endMs: T0 + 50, parent: 'POST /activate' },
        ],
      },
      { service: 'mdso', spans: [{ name: 'mdso.product.CircuitDetailsCollector', startMs: T0 + 500, endMs: T0 + 1500, attributes: { circuit_id: cid } }] },
      { service: 'arda', spans: [{ name: 'get_topology', kind: SpanKind.SERVER, startMs: T0 + 600, endMs: T0 + 700, error: true, attributes: { circuit_id: cid } }] },
    ]);
    for (const b of [beorn!, mdso!, arda!]) await postAccepted(app, '/v1/traces', tracesProtobuf(b.spans));
    const line = (service: string, span: BuiltTrace['spans'][number], body: string, atMs: number) =>
      buildLogs(service, [{ body, atMs, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, severity: SeverityNumber.ERROR, severityText: 'ERROR' }]);
    // MDSO's failure only as a line (one from a service with no span in the trace counts at mdso);
    // arda's line beside its error span, which already counts it.
    await postAccepted(app, '/v1/logs', logsProtobuf([...(await line('mdso', mdso!.spans[0]!, 'plan failed', T0 + 1400)), ...(await line('scriptplan', mdso!.spans[0]!, 'script aborted', T0 + 1450))]));
    await postAccepted(app, '/v1/logs', logsProtobuf(await line('arda', arda!.spans[0]!, 'no topology', T0 + 650)));
    const summary = await circuit(app, cid);
    const graph = (await app.inject(`/api/service-graph?circuit_id=${cid}`)).json<{
      nodes: { id: string; errorCount: number }[];
      edges: { source: string; target: string; bridged: boolean; errorCount: number }[];
    }>();
    assert.deepEqual(Object.fromEntries(graph.nodes.map(n => [n.id, n.errorCount])), { arda: 1, beorn: 0, mdso: 2 });
    assert.equal(
      graph.nodes.reduce((a, n) => a + n.errorCount, 0),
      summary.errorCount,
      "the nodes' errors are the circuit's",
    );
    assert.deepEqual(Object.fromEntries(graph.edges.filter(e => e.bridged).map(e => [`${e.source}->${e.target}`, e.errorCount])), {
      'beorn->mdso': 1,
      'mdso->arda': 1,
    });
  });
});
