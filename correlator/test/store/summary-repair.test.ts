// Sweeps before each slice recounted what it deleted (4ed061d) left stores whose circuits and
// correlations count traces no longer stored: a sweep cut short (a failed start) had deleted the
// traces, with their memberships, and never recounted. Such a store is mended by its next sweep.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { CircuitDetail, CircuitListResponse, CorrelationListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { postAccepted } from '../api/app-fixture.js';

/** Apps on one data directory, built in turn; each closed, and the directory removed, after the test. */
function dataDir(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'corr-repair-'));
  const apps: FastifyInstance[] = [];
  t.after(async () => {
    for (const app of apps) await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (): Promise<FastifyInstance> => {
    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir }) });
    apps.push(app);
    await app.ready();
    return app;
  };
  return { dir, open };
}

/**
 * What a sweep before 4ed061d did to a slice of traces, and left so when cut short: the traces go
 * whole (chunks, bridges, memberships, links, logs, rows), and nothing they were summed into is
 * counted again. Such a store was made by an older correlator, without the row saying it was read
 * for such summaries (a new store has it).
 */
function deleteLikeAnOldSweep(file: string, traceIds: string[]): void {
  const db = new Database(file);
  const ids = JSON.stringify(traceIds);
  const refs = `(SELECT id FROM traces WHERE trace_id IN (SELECT value FROM json_each(@ids)))`;
  db.transaction(() => {
    for (const sql of [
      `DELETE FROM span_chunks WHERE trace_ref IN ${refs}`,
      `DELETE FROM bridges WHERE parent_ref IN ${refs} OR child_ref IN ${refs}`,
      'DELETE FROM trace_keys WHERE trace_id IN (SELECT value FROM json_each(@ids))',
      'DELETE FROM refused_traces WHERE trace_id IN (SELECT value FROM json_each(@ids))',
      'DELETE FROM links WHERE source_trace_id IN (SELECT value FROM json_each(@ids)) OR target_trace_id IN (SELECT value FROM json_each(@ids))',
      'DELETE FROM logs WHERE trace_id IN (SELECT value FROM json_each(@ids))',
      'DELETE FROM traces WHERE trace_id IN (SELECT value FROM json_each(@ids))',
    ])
      db.prepare(sql).run({ ids });
    db.prepare(`DELETE FROM meta WHERE key = 'summaries_repaired'`).run();
  })();
  db.close();
}

describe('summaries left counting deleted traces', () => {
  it('are counted again by the next sweep: no circuit lists a trace that is gone, none is left empty', async t => {
    const { dir, open } = dataDir(t);
    const first = await open();
    const at = Date.now() - 3_600_000;
    // Each circuit's traces in one episode (a correlation of them), a service each; a request that
    // runs through GONE and PART is a correlation of its own.
    const specs = ['GONE', 'GONE', 'GONE', 'PART', 'PART', 'PART', 'PART', 'KEPT', 'KEPT'].map((circuit, i) => ({
      service: ['beorn', 'arda', 'mdso', 'nso'][i % 4]!,
      spans: [
        {
          name: 'x',
          startMs: at + i * 1000,
          endMs: at + i * 1000 + 5,
          attributes: { circuit_id: circuit, ...(i >= 2 && i <= 6 ? { request_id: 'REQ-THROUGH' } : {}) },
        },
      ],
    }));
    const traces = await buildTraces(specs, 12);
    await postAccepted(first, '/v1/traces', tracesProtobuf(traces.flatMap(x => x.spans)));
    const listed = async (app: FastifyInstance) =>
      (await app.inject('/api/circuits')).json<CircuitListResponse>().circuits.map(c => [c.circuitId, c.traceCount]);
    assert.deepEqual(await listed(first), [['KEPT', 2], ['PART', 4], ['GONE', 3]]);
    const kept = (await first.inject('/api/circuits/KEPT')).json<CircuitDetail>().summary;
    await first.close();

    // GONE's three traces and two of PART's, as a sweep stopped part-way left them.
    const deleted = traces.slice(0, 5).map(x => x.traceId);
    deleteLikeAnOldSweep(join(dir, 'correlator.db'), deleted);

    const app = await open();
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.retention.idle();
    assert.deepEqual(await listed(app), [['KEPT', 2], ['PART', 2]]);
    assert.equal((await app.inject('/api/circuits/GONE')).statusCode, 404);
    const part = (await app.inject('/api/circuits/PART')).json<CircuitDetail>();
    assert.deepEqual(
      [part.summary.traceCount, part.summary.spanCount, part.summary.services, part.traces.map(x => x.traceId)],
      [2, 2, ['arda', 'mdso'], traces.slice(5, 7).map(x => x.traceId)],
    );
    assert.deepEqual((await app.inject('/api/circuits/KEPT')).json<CircuitDetail>().summary, kept, 'a circuit that lost nothing is as it was');
    const correlations = (await app.inject('/api/correlations?limit=100')).json<CorrelationListResponse>().correlations;
    assert.ok(correlations.length > 0);
    for (const c of correlations) {
      for (const id of c.traceIds) assert.ok(!deleted.includes(id), `${c.id} lists ${id}, deleted`);
      assert.ok(c.traceIds.length >= 2, `${c.id} has ${c.traceIds.length} trace left`);
    }
    const left = traces.slice(5, 7).map(x => x.traceId);
    assert.deepEqual(
      // Both end together: tied, they are listed by id (list-order.ts), whatever their keys.
      correlations
        .filter(c => c.traceIds.some(id => left.includes(id)))
        .map(c => [c.key, c.traceIds])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
      [
        ['circuit_id', left],
        ['request_id', left],
      ],
      "PART's correlation and the request's list the two traces left",
    );
  });
});
