import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildMdsoApp, collect, mdsoConfig, SIM_PASS, startSim, status, until, type RunningSim } from './harness.js';
import { failedIds, ingestedRootResourceIds, recordedIds } from './expectations.js';

const SM = 'charter.resourceTypes.ServiceMapper';
const NS = 'charter.resourceTypes.NetworkService';
const PRODUCTS = [SM, NS];

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

void describe('MDSO poller against the simulator', () => {
  let sim: RunningSim;
  before(async () => {
    sim = await startSim({ seed: 11, resourcesPerProduct: 120, failureRate: 0.25 });
  });
  after(async () => {
    await sim.close();
  });

  void it('records every failure once, with spans, and a second poll repeats nothing', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: PRODUCTS }), { start: false });
    try {
      const first = await collect(t.app);
      assert.equal(first.status, 200);
      assert.equal(first.json.poll.outcome, 'ok');
      const expected = failedIds(sim.app, PRODUCTS);
      assert.ok(expected.length > 20, 'the dataset has failures');
      assert.deepEqual(recordedIds(t.db), expected);
      assert.deepEqual(ingestedRootResourceIds(t.ingested), expected);
      assert.equal(first.json.poll.failuresFound, expected.length);
      assert.equal(first.json.poll.duplicatesSkipped, 0, "the poller's own page overlap is not counted as MDSO duplicates");

      const second = await collect(t.app);
      assert.equal(second.json.poll.outcome, 'ok');
      assert.equal(second.json.poll.failuresFound, 0);
      assert.deepEqual(recordedIds(t.db), expected);
      assert.equal(t.ingested.length, expected.length);
    } finally {
      await t.close();
    }
  });

  void it('picks up failures that appear between polls', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: PRODUCTS }), { start: false });
    try {
      await collect(t.app);
      const before = recordedIds(t.db).length;
      const added = await sim.admin('POST', '/__sim/resources', { resourceTypeId: SM, failed: true });
      assert.equal(added.status, 201);
      const healthy = sim.app.mdsoSim.store.search({ exactTypeId: NS, q: 'orchState:active' })[0]!;
      assert.equal((await sim.admin('POST', `/__sim/resources/${healthy.id}/fail`)).status, 200);
      const next = await collect(t.app);
      assert.equal(next.json.poll.failuresFound, 2);
      const ids = recordedIds(t.db);
      assert.equal(ids.length, before + 2);
      assert.ok(ids.includes((added.json as { resource: { id: string } }).resource.id), 'ids.includes((added.json as { resource: { id: string } }).resource.id)');
      assert.ok(ids.includes(healthy.id), 'ids.includes(healthy.id)');
    } finally {
      await t.close();
    }
  });

  void it('a failed resource whose updatedAt moves without a new run is not a new failure', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: PRODUCTS }), { start: false });
    try {
      await collect(t.app);
      const before = recordedIds(t.db);
      const failed = sim.app.mdsoSim.store.search({ exactTypeId: SM, q: 'orchState:failed' })[0]!;
      const touched = await sim.admin('POST', `/__sim/resources/${failed.id}/touch`);
      assert.equal(touched.status, 200);
      assert.notEqual((touched.json as { updatedAt: string }).updatedAt, undefined);
      const next = await collect(t.app);
      assert.ok(next.json.products[0].resourcesChanged >= 1, 'the touched resource was seen as changed');
      assert.equal(next.json.poll.failuresFound, 0);
      assert.deepEqual(recordedIds(t.db), before);
    } finally {
      await t.close();
    }
  });

  void it('reports status, cursors and metrics', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: PRODUCTS }), { start: false });
    try {
      const before = await status(t.app);
      assert.equal(before.enabled, true);
      assert.equal(before.lastPoll, null);
      await collect(t.app);
      const s = await status(t.app);
      assert.equal(s.running, false);
      assert.equal(s.lastPoll.outcome, 'ok');
      assert.equal(s.lastError, null);
      assert.equal(s.products.length, 2);
      for (const p of s.products) {
        assert.ok(p.watermark, 'a completed scan sets the watermark');
        assert.equal(p.resumeOffset, null);
        assert.equal(p.lastPoll.resourcesSeen, sim.app.mdsoSim.store.search({ exactTypeId: p.resourceTypeId }).length);
      }
      const metrics = await t.registry.metrics();
      assert.ok(metricValue(metrics, 'mdso_api_requests_total', { endpoint: '/bpocore/market/api/v1/resources', status: '200' }) > 0, 'metricValue(metrics, \'mdso_api_requests_total\', { endpoint: \'/bpocore/market/api/v1/resources\', status: \'200\' }) > 0');
      assert.ok(metricValue(metrics, 'mdso_api_requests_total', { endpoint: '/tron/api/v1/oauth2/tokens', status: '201' }) >= 1, 'metricValue(metrics, \'mdso_api_requests_total\', { endpoint: \'/tron/api/v1/oauth2/tokens\', status: \'201\' }) >= 1');
      assert.match(metrics, /mdso_poll_duration_seconds_count\{outcome="ok"\} 1/);
      assert.match(metrics, /mdso_poll_lag_seconds \d/);
      assert.doesNotMatch(metrics, /endpoint="[^"]*[0-9a-f]{8}-[0-9a-f]{4}/, 'no ids in endpoint labels');
    } finally {
      await t.close();
    }
  });

  void it('uses the legacy token variant when configured, and deletes its token on close', async () => {
    await sim.admin('DELETE', '/__sim/stats');
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], authVariant: 'legacy' }), { start: false });
    const r = await collect(t.app);
    assert.equal(r.json.poll.outcome, 'ok');
    await t.close();
    const stats = (await sim.admin('GET', '/__sim/stats')).json as { calls: Record<string, Record<string, number>>; tokensDeleted: number };
    assert.equal(stats.calls['POST /tron/api/v1/tokens']?.['201'], 1);
    assert.equal(stats.calls['POST /tron/api/v1/oauth2/tokens'], undefined);
    assert.equal(stats.calls['DELETE /tron/api/v1/tokens/:token']?.['204'], 1);
    assert.equal(stats.tokensDeleted, 1);
  });

  void it('asks MDSO for failed resources only when failedOnlyQuery is on, and finds the same failures', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: PRODUCTS, failedOnlyQuery: true }), { start: false });
    try {
      const r = await collect(t.app);
      assert.equal(r.json.poll.outcome, 'ok');
      assert.deepEqual(recordedIds(t.db), failedIds(sim.app, PRODUCTS));
      assert.equal(r.json.poll.resourcesSeen, failedIds(sim.app, PRODUCTS).length);
    } finally {
      await t.close();
    }
  });

  void it('never logs the password or a token, whatever happens', async () => {
    const logLines: string[] = [];
    const issued: string[] = [];
    const bad = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], password: 'not-the-password-4711' }), { start: false, logLines });
    try {
      const r = await collect(bad.app);
      assert.equal(r.json.poll.outcome, 'failed');
      assert.match(r.json.poll.errorMessage, /rejected the credentials of user "sim-user"/);
    } finally {
      await bad.close();
    }
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM] }), { start: false, logLines });
    try {
      await sim.admin('POST', '/__sim/faults', { errorNext: 1, expireTokensAfterCalls: 3, malformedJsonNext: 1 });
      await collect(t.app);
      issued.push(...sim.app.mdsoSim.tokens.keys());
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      await t.close();
    }
    assert.ok(logLines.length > 2, 'the poller logged');
    assert.ok(issued.length > 0, 'issued.length > 0');
    const all = logLines.join('\n');
    for (const secret of ['not-the-password-4711', SIM_PASS, ...issued]) assert.ok(!all.includes(secret), `a secret reached the log: ${secret.slice(0, 4)}…`);
  });

  void it('keeps credentials inside MDSO_URL out of status and log', async () => {
    const logLines: string[] = [];
    const withUserinfo = sim.url.replace('http://', 'http://admin:secret-in-url-99@');
    const t = await buildMdsoApp(mdsoConfig({ url: withUserinfo, products: [SM] }), { logLines });
    try {
      const s = await status(t.app);
      // The credentials are hidden, not dropped: the status says the URL carries some.
      assert.equal(s.url, sim.url.replace('http://', 'http://<hidden>@'));
      await until(async () => ((await status(t.app)).lastPoll?.outcome === 'ok' ? true : null), 'a poll');
    } finally {
      await t.close();
    }
    assert.ok(logLines.some(l => l.includes('MDSO poller started')), 'logLines.some(l => l.includes(\'MDSO poller started\'))');
    assert.ok(!logLines.join('\n').includes('secret-in-url-99'), '!logLines.join(\'\\n\').includes(\'secret-in-url-99\')');
  });

  void it('answers 409 while a poll runs', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM] }), { start: false });
    try {
      await sim.admin('POST', '/__sim/faults', { latencyMs: 150 });
      const running = collect(t.app);
      await until(async () => ((await status(t.app)).running ? true : null), 'the first poll to run');
      const second = await collect(t.app);
      assert.equal(second.status, 409);
      assert.match(second.json.message, /already running/);
      assert.equal((await status(t.app)).running, true);
      assert.equal((await running).status, 200);
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      await t.close();
    }
  });
});

void describe('MDSO poller lifecycle', () => {
  let sim: RunningSim;
  before(async () => {
    sim = await startSim({ seed: 31, resourcesPerProduct: 30, failureRate: 0.3, products: [SM] });
  });
  after(async () => {
    await sim.close();
  });

  void it('starts polling when the app is ready', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM] }));
    try {
      const lastPoll = await until(async () => (await status(t.app)).lastPoll?.outcome === 'ok' ? (await status(t.app)).lastPoll : null, 'the first scheduled poll');
      assert.equal(lastPoll.trigger, 'schedule');
      assert.deepEqual(recordedIds(t.db), failedIds(sim.app, [SM]));
      assert.ok((await status(t.app)).nextPollAt, 'the next poll is scheduled');
    } finally {
      await t.close();
    }
  });

  void it('closing the app aborts a running poll, records it as aborted and deletes the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdso-close-'));
    try {
      const dbPath = join(dir, 'c.db');
      const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], pageSize: 5 }), { dbPath, start: false });
      await sim.admin('DELETE', '/__sim/stats');
      await sim.admin('POST', '/__sim/faults', { latencyMs: 40 });
      const running = collect(t.app);
      // a list request has arrived, so the client holds its token
      await until(async () => (sim.app.mdsoSim.stats.apiCalls >= 2 ? true : null), 'the poll to authenticate and start listing');
      await t.close();
      await sim.admin('DELETE', '/__sim/faults');
      const answered = await running.catch(() => null);
      if (answered) assert.notEqual(answered.json.poll?.outcome, 'ok');
      assert.equal(sim.app.mdsoSim.stats.tokensDeleted, 1, 'token deleted on close');
      const reopened = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], pageSize: 5 }), { dbPath, start: false });
      try {
        const s = await status(reopened.app);
        assert.equal(s.lastPoll.outcome, 'aborted');
        const r = await collect(reopened.app);
        assert.equal(r.json.poll.outcome, 'ok');
        assert.deepEqual(recordedIds(reopened.db), failedIds(sim.app, [SM]));
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe('MDSO poller off', () => {
  void it('status says why, collect answers 503', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: null }));
    try {
      const s = await status(t.app);
      assert.equal(s.enabled, false);
      assert.match(s.disabledReason, /MDSO_URL/);
      const c = await collect(t.app);
      assert.equal(c.status, 503);
      assert.equal(c.json.code, 'MDSO_NOT_CONFIGURED');
    } finally {
      await t.close();
    }
  });
});

void describe('MDSO poller under injected faults', () => {
  let sim: RunningSim;
  before(async () => {
    sim = await startSim({ seed: 23, resourcesPerProduct: 90, failureRate: 0.3 });
  });
  after(async () => {
    await sim.close();
  });

  async function pollWithFault(fault: Record<string, unknown>, config: Partial<ReturnType<typeof mdsoConfig>> = {}) {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: PRODUCTS, pageSize: 20, ...config }), { start: false });
    await sim.admin('DELETE', '/__sim/faults');
    const set = await sim.admin('POST', '/__sim/faults', fault);
    assert.equal(set.status, 200, JSON.stringify(set.json));
    return t;
  }

  // `reported`: what the poll summary and /api/mdso/status must show of the fault
  const cases: Array<{
    name: string;
    fault: Record<string, unknown>;
    metric?: { endpoint: string; status: string };
    reported: 'apiErrors' | 'shortPages' | 'duplicatesSkipped' | 'duration';
    lastApiError?: RegExp;
  }> = [
    { name: 'latency', fault: { latencyMs: 20 }, reported: 'duration' },
    { name: '5xx on the next calls (within retries)', fault: { errorNext: 2, errorStatus: 502 }, metric: { endpoint: '/tron/api/v1/oauth2/tokens', status: '502' }, reported: 'apiErrors', lastApiError: /HTTP 502/ },
    { name: 'a 5xx every 7th call', fault: { errorEvery: 7 }, metric: { endpoint: '/bpocore/market/api/v1/resources', status: '503' }, reported: 'apiErrors', lastApiError: /HTTP 503/ },
    { name: 'token expiry (401 after 5 calls)', fault: { expireTokensAfterCalls: 5 }, metric: { endpoint: '/bpocore/market/api/v1/resources', status: '401' }, reported: 'apiErrors', lastApiError: /HTTP 401 \(bpapigw-300\)/ },
    { name: 'malformed JSON', fault: { malformedJsonNext: 3 }, metric: { endpoint: '/tron/api/v1/oauth2/tokens', status: 'invalid_json' }, reported: 'apiErrors', lastApiError: /not valid JSON/ },
    { name: 'truncated pages', fault: { truncatePages: true }, reported: 'shortPages' },
    { name: 'items duplicated across pages', fault: { duplicateAcrossPages: true }, reported: 'duplicatesSkipped' },
    { name: 'truncated pages with duplicates', fault: { truncatePages: true, duplicateAcrossPages: true }, reported: 'duplicatesSkipped' },
  ];

  for (const c of cases) {
    void it(`keeps going and records each failure once: ${c.name}`, async () => {
      const t = await pollWithFault(c.fault);
      try {
        const r = await collect(t.app);
        assert.equal(r.status, 200);
        assert.equal(r.json.poll.outcome, 'ok', JSON.stringify(r.json.poll));
        // every resource counted once: nothing lost to truncation, no duplicate counted twice
        const distinct = PRODUCTS.reduce((n, p) => n + sim.app.mdsoSim.store.search({ exactTypeId: p }).length, 0);
        assert.equal(r.json.poll.resourcesSeen, distinct);
        const expected = failedIds(sim.app, PRODUCTS);
        assert.deepEqual(recordedIds(t.db), expected);
        assert.deepEqual(ingestedRootResourceIds(t.ingested), expected, 'one span batch per failure');
        const again = await collect(t.app);
        assert.equal(again.json.poll.failuresFound, 0);
        assert.deepEqual(recordedIds(t.db), expected);
        const s = await status(t.app);
        if (c.reported === 'duration') assert.ok(r.json.poll.durationSeconds > 0 && s.lastPoll.durationSeconds > 0, 'durations are positive');
        else {
          assert.ok(r.json.poll[c.reported] > 0, `collect reports ${c.reported}: ${JSON.stringify(r.json.poll)}`);
          // status reports the latest poll, the re-poll
          assert.equal(s.lastPoll[c.reported], again.json.poll[c.reported]);
        }
        if (c.lastApiError) assert.match(s.lastApiError.message, c.lastApiError);
        else assert.equal(s.lastApiError, null);
        assert.equal(s.lastError, null, 'no scan was stopped');
        if (c.metric) {
          const metrics = await t.registry.metrics();
          assert.ok(metricValue(metrics, 'mdso_api_requests_total', c.metric) >= 1, `metric ${JSON.stringify(c.metric)} in\n${metrics}`);
        }
      } finally {
        await sim.admin('DELETE', '/__sim/faults');
        await t.close();
      }
    });
  }

  void it('a fault beyond the retries stops the scan at the last good page; status reports it; the next poll resumes', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], pageSize: 10, maxRetries: 1 }), { start: false });
    try {
      await sim.admin('DELETE', '/__sim/faults');
      // the token and a few pages (with their TraceLog look-ups) pass, then MDSO fails every call
      await sim.admin('POST', '/__sim/faults', { failAfterCalls: 12 });
      const failed = await collect(t.app);
      assert.equal(failed.json.poll.outcome, 'failed');
      assert.match(failed.json.poll.errorMessage, /HTTP 503/);
      const s = await status(t.app);
      assert.match(s.lastError.message, /503/);
      assert.equal(s.lastPoll.outcome, 'failed');
      const resumeOffset = s.products[0].resumeOffset;
      assert.ok(resumeOffset > 0, `stopped after a good page: ${resumeOffset}`);
      const partial = recordedIds(t.db);
      assert.ok(partial.length > 0, 'failures of the good pages were recorded');
      const metrics = await t.registry.metrics();
      assert.ok(metricValue(metrics, 'mdso_api_requests_total', { endpoint: '/bpocore/market/api/v1/resources', status: '503' }) >= 2, 'metricValue(metrics, \'mdso_api_requests_total\', { endpoint: \'/bpocore/market/api/v1/resources\', status: \'503\' }) >= 2');
      assert.match(metrics, /mdso_poll_duration_seconds_count\{outcome="failed"\} 1/);

      await sim.admin('DELETE', '/__sim/faults');
      await sim.admin('DELETE', '/__sim/stats');
      const ok = await collect(t.app);
      assert.equal(ok.json.poll.outcome, 'ok');
      assert.equal(ok.json.poll.failuresFound, failedIds(sim.app, [SM]).length - partial.length, 'only the rest was handed on');
      assert.deepEqual(recordedIds(t.db), failedIds(sim.app, [SM]));
      const calls = ((await sim.admin('GET', '/__sim/stats')).json as { calls: Record<string, Record<string, number>> }).calls;
      const pages = calls['GET /bpocore/market/api/v1/resources']?.['200'] ?? 0;
      const total = sim.app.mdsoSim.store.search({ exactTypeId: SM }).length;
      // resumed: fewer list pages than a scan from offset 0 needs, plus one TraceLog look-up at least per failure
      assert.ok(pages < Math.ceil(total / 10) + ok.json.poll.failuresFound * 2, `pages ${pages}`);
      assert.equal((await status(t.app)).products[0].resumeOffset, null);
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      await t.close();
    }
  });

  void it('resuming does not skip items when resources before the offset left the list meanwhile', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [NS], pageSize: 5, maxRetries: 0, failedOnlyQuery: true }), { start: false });
    try {
      await sim.admin('DELETE', '/__sim/faults');
      await sim.admin('POST', '/__sim/faults', { failAfterCalls: 14 });
      const first = await collect(t.app);
      await sim.admin('DELETE', '/__sim/faults');
      assert.equal(first.json.poll.outcome, 'failed');
      const resumeOffset = (await status(t.app)).products[0].resumeOffset as number;
      assert.ok(resumeOffset >= 5, 'resumeOffset >= 5');
      // two failed resources before the resume point get repaired: the list shifts back by two
      const listed = sim.app.mdsoSim.store.search({ resourceTypeId: NS, q: 'orchState:failed' });
      for (const r of listed.slice(0, 2)) r.orchState = 'active';
      const notYetSeen = listed.slice(resumeOffset, resumeOffset + 2).map(r => r.id);
      const second = await collect(t.app);
      assert.equal(second.json.poll.outcome, 'ok');
      const recorded = recordedIds(t.db);
      for (const id of notYetSeen) assert.ok(recorded.includes(id), `${id} was skipped`);
      assert.equal(new Set(recorded).size, recorded.length);
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      await t.close();
    }
  });

  void it('times out a slow MDSO and reports the timeout', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], requestTimeoutMs: 100, maxRetries: 0 }), { start: false });
    try {
      await sim.admin('POST', '/__sim/faults', { latencyMs: 400 });
      const r = await collect(t.app);
      assert.equal(r.json.poll.outcome, 'failed');
      assert.match(r.json.poll.errorMessage, /within 100 ms/);
      const metrics = await t.registry.metrics();
      assert.ok(metricValue(metrics, 'mdso_api_requests_total', { endpoint: '/tron/api/v1/oauth2/tokens', status: 'timeout' }) >= 1, 'metricValue(metrics, \'mdso_api_requests_total\', { endpoint: \'/tron/api/v1/oauth2/tokens\', status: \'timeout\' }) >= 1');
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      await t.close();
    }
  });
});

void describe('MDSO poller cursor persistence', () => {
  let sim: RunningSim;
  let dir: string;
  before(async () => {
    sim = await startSim({ seed: 5, resourcesPerProduct: 100, failureRate: 0.3 });
    dir = mkdtempSync(join(tmpdir(), 'mdso-cursor-'));
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('a restart over the same database resumes from the last good page and repeats nothing', async () => {
    const dbPath = join(dir, 'c.db');
    const config = mdsoConfig({ url: sim.url, products: [SM], pageSize: 10, maxRetries: 0 });
    const first = await buildMdsoApp(config, { dbPath, start: false });
    await sim.admin('POST', '/__sim/faults', { failAfterCalls: 15 });
    const r1 = await collect(first.app);
    await sim.admin('DELETE', '/__sim/faults');
    assert.equal(r1.json.poll.outcome, 'failed');
    const s1 = await status(first.app);
    const recorded1 = recordedIds(first.db);
    assert.ok(s1.products[0].resumeOffset > 0, `resume offset recorded: ${JSON.stringify(s1.products[0])}`);
    assert.ok(recorded1.length > 0, 'recorded1.length > 0');
    await first.close();

    const second = await buildMdsoApp(config, { dbPath, start: false });
    try {
      const s2 = await status(second.app);
      assert.equal(s2.products[0].resumeOffset, s1.products[0].resumeOffset, 'the cursor survived the restart');
      const r2 = await collect(second.app);
      assert.equal(r2.json.poll.outcome, 'ok');
      const all = recordedIds(second.db);
      assert.deepEqual(all, failedIds(sim.app, [SM]));
      // the second process handed on only what the first had not
      assert.equal(second.ingested.length, all.length - recorded1.length);
      assert.equal(r2.json.poll.failuresFound, all.length - recorded1.length);
    } finally {
      await second.close();
    }
  });
});
