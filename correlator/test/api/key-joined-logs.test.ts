// A log of no trace that names no circuit but a business key (an MDSO plan script's failure line
// naming only its resource_id) joins the episode of that key value, whose member trace names the
// circuit: the circuit detail listed that correlation, yet the circuit's logs left the line out
// and its status stayed ok. Such a line is the circuit's: listed in its logs, counted in its
// logCount and, at ERROR or worse, its errorCount and status, whatever the arrival order, across
// a restart or an eviction, and once however often it is sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { CircuitDetail, CircuitListResponse, LogListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { buildTraces, SpanKind, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { postAccepted } from './app-fixture.js';

const CIRCUIT = '80.L1XX.005054..CHTR';
const RESOURCE = '550e8400-e29b-41d4-a716-446655440000';
const FAILURE = `PeServiceProvisioner failed resource_id=${RESOURCE}`;

/** An app on `dir`, closed and the directory removed after the test: reopen it to restart. */
function opener(t: TestContext, env: Record<string, string> = {}): () => Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'corr-key-logs-'));
  let app: FastifyInstance | null = null;
  t.after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return async () => {
    await app?.close();
    app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, CORR_WINDOW_SECONDS: '60', ...env }) });
    await app.ready();
    return app;
  };
}

/** MDSO's plan naming the circuit and its resource, alone: another run of the plan, say. */
async function postPlanTrace(app: FastifyInstance, startMs: number, seed: number): Promise<void> {
  const attributes = { 'mdso.circuit_id': CIRCUIT, 'mdso.resource_id': RESOURCE };
  const [plan] = await buildTraces([{ service: 'mdso-scriptplan', spans: [{ name: 'mdso.product.ServiceMapper', startMs, endMs: startMs + 400, attributes }] }], seed);
  await postAccepted(app, '/v1/traces', tracesProtobuf(plan!.spans));
}

/** beorn, naming the circuit, then MDSO's plan naming the circuit and its resource. */
async function postCircuitTraces(app: FastifyInstance, t0: number): Promise<void> {
  const built = await buildTraces(
    [
      {
        service: 'beorn',
        spans: [{ name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: t0, endMs: t0 + 1200, attributes: { 'http.request.header.x_circuit_id': [CIRCUIT] } }],
      },
      {
        service: 'mdso-scriptplan',
        spans: [
          {
            name: 'mdso.product.CircuitDetailsCollector',
            startMs: t0 + 300,
            endMs: t0 + 1100,
            attributes: { 'mdso.circuit_id': CIRCUIT, 'mdso.resource_id': RESOURCE },
          },
        ],
      },
    ],
    7,
  );
  await postAccepted(app, '/v1/traces', tracesProtobuf(built.flatMap(b => b.spans)));
}

async function postResourceLog(app: FastifyInstance, atMs: number, message = FAILURE, severity = 'ERROR'): Promise<void> {
  const records = [{ timestamp: new Date(atMs).toISOString(), severity, message }];
  await postAccepted(app, '/api/logs', { resource: { service: 'scriptplan' }, records });
}

interface Seen {
  status: string;
  errorCount: number;
  logCount: number;
  traceCount: number;
  logs: string[];
  listedAsError: boolean;
}

async function seen(app: FastifyInstance, circuit = CIRCUIT): Promise<Seen> {
  const detail = await app.inject(`/api/circuits/${encodeURIComponent(circuit)}`);
  assert.equal(detail.statusCode, 200, detail.body);
  const { summary } = detail.json<CircuitDetail>();
  const logs = (await app.inject(`/api/circuits/${encodeURIComponent(circuit)}/logs`)).json<LogListResponse>().logs.map(l => l.body as string);
  const errors = (await app.inject('/api/circuits?status=error')).json<CircuitListResponse>().circuits.map(c => c.circuitId);
  return { status: summary.status, errorCount: summary.errorCount, logCount: summary.logCount, traceCount: summary.traceCount, logs, listedAsError: errors.includes(circuit) };
}

const FAILED: Seen = { status: 'error', errorCount: 1, logCount: 1, traceCount: 2, logs: [FAILURE], listedAsError: true };

describe('a log joined to a circuit through a business key', () => {
  for (const logFirst of [false, true])
    it(`is the circuit's, an ERROR line its error (${logFirst ? 'log first' : 'traces first'})`, async t => {
      const app = await opener(t)();
      const t0 = Date.now() - 60_000;
      if (logFirst) await postResourceLog(app, t0 + 1000);
      await postCircuitTraces(app, t0);
      if (!logFirst) await postResourceLog(app, t0 + 1000);
      assert.deepEqual(await seen(app), FAILED);
      const detail = (await app.inject(`/api/circuits/${encodeURIComponent(CIRCUIT)}`)).json<CircuitDetail>();
      const byResource = detail.correlations.filter(c => c.key === 'resource_id');
      assert.deepEqual(byResource.map(c => [c.logCount, c.services.includes('scriptplan')]), [[1, true]]);
      // Sent again (a client's retry): stored once, counted once.
      await postResourceLog(app, t0 + 1000);
      assert.deepEqual(await seen(app), FAILED);
      const all = (await app.inject(`/api/logs?circuit_id=${encodeURIComponent(CIRCUIT)}`)).json<LogListResponse>();
      assert.deepEqual(all.logs.map(l => l.body), [FAILURE]);
      // The circuit in a range holding only the line is an error circuit there.
      const range = `from=${new Date(t0 + 900).toISOString()}&to=${new Date(t0 + 1050).toISOString()}`;
      const ranged = (await app.inject(`/api/circuits?status=error&${range}`)).json<CircuitListResponse>();
      assert.deepEqual(ranged.circuits.map(c => c.circuitId), [CIRCUIT]);
      // Another trace of the circuit joins the resource's episode: the line is counted once still.
      await postPlanTrace(app, t0 + 1500, 8);
      assert.deepEqual(await seen(app), { ...FAILED, traceCount: 3 });
    });

  for (const logFirst of [false, true])
    it(`is the circuit's across a restart (${logFirst ? 'log first' : 'traces first'})`, async t => {
      const open = opener(t);
      let app = await open();
      const t0 = Date.now() - 60_000;
      if (logFirst) await postResourceLog(app, t0 + 1000);
      else await postCircuitTraces(app, t0);
      app = await open();
      if (logFirst) await postCircuitTraces(app, t0);
      else await postResourceLog(app, t0 + 1000);
      assert.deepEqual(await seen(app), FAILED);
      app = await open();
      await postResourceLog(app, t0 + 1000);
      await postCircuitTraces(app, t0);
      assert.deepEqual(await seen(app), FAILED);
    });

  for (const logFirst of [false, true])
    it(`is the circuit's when hot state evicted the other side (${logFirst ? 'log first' : 'traces first'})`, async t => {
      const app = await opener(t, { MAX_TRACKED_TRACES: '100', MAX_TRACKED_KEYS: '100' })();
      const t0 = Date.now() - 60_000;
      if (logFirst) await postResourceLog(app, t0 + 1000);
      else await postCircuitTraces(app, t0);
      // Other circuits' traces, enough to push the first side out of hot state.
      const fillers = await buildTraces(
        Array.from({ length: 150 }, (_, i) => ({ service: 'filler', spans: [{ name: 'fill', startMs: t0 + i, endMs: t0 + i + 5, attributes: { circuit_id: `FILL-${i}` } }] })),
        9,
      );
      await postAccepted(app, '/v1/traces', tracesProtobuf(fillers.flatMap(f => f.spans)));
      if (logFirst) await postCircuitTraces(app, t0);
      else await postResourceLog(app, t0 + 1000);
      assert.deepEqual(await seen(app), FAILED);
    });

  it('claims only the lines within the window of its traces, however the episode chains on', async t => {
    const app = await opener(t)();
    const t0 = Date.now() - 10 * 60_000;
    await postCircuitTraces(app, t0);
    // 100 s on: an episode of the resource of its own, beyond the window of the traces.
    await postResourceLog(app, t0 + 100_000);
    assert.deepEqual((await seen(app)).logs, []);
    // Between them, within the window of the traces: one episode now, but the failure 100 s on is
    // still no trace of the circuit's window (the README: "within the window").
    await postResourceLog(app, t0 + 50_000, `Retrying resource_id=${RESOURCE}`, 'INFO');
    assert.deepEqual(await seen(app), { ...FAILED, status: 'ok', errorCount: 0, listedAsError: false, logs: [`Retrying resource_id=${RESOURCE}`] });
  });

  for (const logsFirst of [false, true])
    it(`leaves a later circuit's failure on the same resource to that circuit (${logsFirst ? 'logs first' : 'in time order'})`, async t => {
      // A review's case: the resource polled every 50 s keeps one episode alive; another circuit is
      // activated on it 5 minutes later and fails. The first circuit took that failure (and every
      // poll), turned red minutes after it had succeeded, and was listed as failing then.
      const app = await opener(t)();
      const t0 = Date.now() - 10 * 60_000;
      const OTHER = '80.L1XX.009999..CHTR';
      const polls = Array.from({ length: 6 }, (_, i) => t0 + 50_000 * (i + 1));
      const postLogs = async () => {
        for (const at of polls) await postResourceLog(app, at, `Polling resource_id=${RESOURCE} at ${at}`, 'INFO');
        await postResourceLog(app, t0 + 300_500);
      };
      const postOther = async () => {
        const [plan] = await buildTraces(
          [{ service: 'mdso-scriptplan', spans: [{ name: 'mdso.product.ServiceMapper', startMs: t0 + 300_000, endMs: t0 + 300_400, attributes: { 'mdso.circuit_id': OTHER, 'mdso.resource_id': RESOURCE } }] }],
          12,
        );
        await postAccepted(app, '/v1/traces', tracesProtobuf(plan!.spans));
      };
      if (logsFirst) await postLogs();
      await postCircuitTraces(app, t0);
      await postOther();
      if (!logsFirst) await postLogs();
      const first = await seen(app);
      // Within 60 s of the first circuit's traces (t0 .. t0 + 1.2 s): the poll at 50 s only.
      assert.deepEqual(
        { ...first, logs: first.logs },
        { status: 'ok', errorCount: 0, logCount: 1, traceCount: 2, logs: [`Polling resource_id=${RESOURCE} at ${polls[0]}`], listedAsError: false },
      );
      const other = await seen(app, OTHER);
      // Within 60 s of the other's trace (t0 + 300 s .. + 300.4 s): the polls at 250 and 300 s, and the failure.
      assert.deepEqual(other, {
        status: 'error',
        errorCount: 1,
        logCount: 3,
        traceCount: 1,
        logs: [FAILURE, `Polling resource_id=${RESOURCE} at ${polls[5]}`, `Polling resource_id=${RESOURCE} at ${polls[4]}`],
        listedAsError: true,
      });
    });

  it("claims a line once its trace's later spans bring it within the window", async t => {
    const app = await opener(t)();
    const t0 = Date.now() - 5 * 60_000;
    const attributes = { 'mdso.circuit_id': CIRCUIT, 'mdso.resource_id': RESOURCE };
    const [plan] = await buildTraces(
      [
        {
          service: 'mdso-scriptplan',
          spans: [
            { name: 'plan', startMs: t0, endMs: t0 + 1000, attributes },
            { name: 'late step', parent: 'plan', startMs: t0 + 20_000, endMs: t0 + 30_000, attributes },
          ],
        },
      ],
      13,
    );
    const spans = (name: string) => plan!.spans.filter(s => s.name === name);
    await postAccepted(app, '/v1/traces', tracesProtobuf(spans('plan')));
    // 70 s on: beyond the window of the trace as far as it is known (it ends at 1 s).
    await postResourceLog(app, t0 + 70_000);
    assert.deepEqual((await seen(app)).logs, []);
    // Its step running to 30 s arrives: the line is within 60 s of the trace now.
    await postAccepted(app, '/v1/traces', tracesProtobuf(spans('late step')));
    assert.deepEqual(await seen(app), { ...FAILED, traceCount: 1 });
  });

  it("is the circuit's when the trace holding the resource names the circuit in a later request", async t => {
    const app = await opener(t)();
    const t0 = Date.now() - 60_000;
    const [plan] = await buildTraces(
      [
        {
          service: 'mdso-scriptplan',
          spans: [
            { name: 'plan', startMs: t0, endMs: t0 + 900, attributes: { 'mdso.resource_id': RESOURCE } },
            { name: 'collect', parent: 'plan', startMs: t0 + 100, endMs: t0 + 800, attributes: { 'mdso.circuit_id': CIRCUIT } },
          ],
        },
      ],
      11,
    );
    const spans = (name: string) => plan!.spans.filter(s => s.name === name);
    await postAccepted(app, '/v1/traces', tracesProtobuf(spans('plan')));
    await postResourceLog(app, t0 + 500);
    await postAccepted(app, '/v1/traces', tracesProtobuf(spans('collect')));
    assert.deepEqual(await seen(app), { ...FAILED, traceCount: 1 });
  });

  it('leaves a line of the same resource outside the episode, and an INFO line counts no error', async t => {
    const app = await opener(t)();
    const t0 = Date.now() - 30 * 60_000;
    await postCircuitTraces(app, t0);
    await postResourceLog(app, t0 + 2000, `Starting execution resource_id=${RESOURCE}`, 'INFO');
    // Twenty minutes later: another episode of the resource, which no trace of the circuit is in.
    await postResourceLog(app, t0 + 20 * 60_000);
    const s = await seen(app);
    assert.deepEqual(s, { ...FAILED, status: 'ok', errorCount: 0, listedAsError: false, logs: [`Starting execution resource_id=${RESOURCE}`] });
  });

  it('gives a line that names its own circuit to that circuit only', async t => {
    const app = await opener(t)();
    const t0 = Date.now() - 60_000;
    await postCircuitTraces(app, t0);
    await postResourceLog(app, t0 + 1000, `orchState=failed resource_id=${RESOURCE} circuit_id=OTHER-1`);
    const s = await seen(app);
    assert.deepEqual([s.status, s.logCount, s.logs], ['ok', 0, []]);
    const other = await seen(app, 'OTHER-1');
    assert.deepEqual([other.status, other.logCount], ['error', 1]);
  });
});
