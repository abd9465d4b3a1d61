import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { mdsoAnalysisRoutes } from '../../../src/mdso/analysis/index.js';
import { newAnalysis, traceFailure } from './helpers.js';

const HOUR = 3_600_000;
const BPO = 'MDSO | System Error - Application Configuration: No active BPO Constants available';
const UNREACH = 'MDSO | Connectivity Error - Unreachable Live Device: device: AUSDTXIR2CW communication state: UNAVAILABLE equipment status: IN SERVICE';

async function buildApp(t: ReturnType<typeof newAnalysis>, withSwagger = false): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (withSwagger) await app.register(swagger, { openapi: { info: { title: 't', version: '0' } } });
  await app.register(mdsoAnalysisRoutes, { analysis: t.analysis });
  await app.ready();
  return app;
}

void describe('MDSO analysis routes', () => {
  const t = newAnalysis();
  let app: FastifyInstance;
  const base = t.clock.ms;
  let bpoIssue = '';

  before(async () => {
    app = await buildApp(t);
    // 5 BPO failures an hour apart on two circuits, 2 unreachable-device failures on NetworkService, 3 unknown.
    for (let i = 0; i < 5; i++) {
      bpoIssue = t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: base - (10 - i) * HOUR, circuitId: `11.AAAA.00000${i % 2}..CHTR` })).issueId;
    }
    for (let i = 0; i < 2; i++) {
      t.analysis.recordFailure(
        traceFailure(UNREACH, { occurredAtMs: base - (4 - i) * HOUR, product: 'NetworkService', resourceTypeId: 'charter.resourceTypes.NetworkService' }),
      );
    }
    for (const dev of ['AUSDTXIR2CW', 'NYCMNYZR1AW', 'DLLSTXZR0AW']) {
      t.analysis.recordFailure(traceFailure(`Flux capacitor empty on ${dev}`, { occurredAtMs: base - HOUR }));
    }
  });
  after(async () => {
    await app.close();
    await t.close();
  });

  void it('GET /api/mdso/errors pages newest first with an opaque cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/mdso/errors?limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { errors: Array<{ id: string; occurredAtMs: number }>; nextCursor: string | null };
      seen.push(...body.errors.map(e => `${e.occurredAtMs}:${e.id}`));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(seen.length, 10);
    assert.equal(new Set(seen).size, 10);
    const times = seen.map(s => Number(s.split(':')[0]));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.equal(pages, 3);
  });

  void it('GET /api/mdso/errors filters by product, defect, state, circuit and time', async () => {
    const q = async (qs: string) => (await app.inject(`/api/mdso/errors?${qs}`)).json() as { errors: Array<Record<string, unknown>> };
    assert.equal((await q('product=NetworkService')).errors.length, 2);
    assert.equal((await q('defect=DE-1301')).errors.length, 5);
    assert.equal((await q('defect=uncategorized')).errors.length, 3);
    assert.equal((await q('circuit_id=11.AAAA.000001..CHTR')).errors.length, 2);
    assert.equal((await q('state=new')).errors.length, 10);
    assert.equal((await q(`from=${base - 5 * HOUR}&to=${new Date(base).toISOString()}`)).errors.length, 5);
    const one = (await q('defect=DE-1001')).errors[0]!;
    assert.equal(one.defectTitle, 'Live device unreachable (communication state)');
    assert.equal(one.extractionRule, 'meta');
    assert.equal(one.catalogueVersion, '2026.11.1');
    assert.equal(one.groupingVersion, 1);
  });

  void it('GET /api/mdso/errors rejects bad input with 400 and a message', async () => {
    for (const qs of ['cursor=not-a-cursor', 'from=yesterday', 'defect=DE-12', 'limit=0', 'state=open', `from=${base}&to=${base - 1}`]) {
      const res = await app.inject(`/api/mdso/errors?${qs}`);
      assert.equal(res.statusCode, 400, qs);
      assert.ok((res.json() as { message: string }).message.length > 0, '(res.json() as { message: string }).message.length > 0');
    }
    // Times are refused like on every other route: the same code, the parameter named.
    const badTime = (await app.inject('/api/mdso/errors?to=yesterday')).json() as { code: string; message: string };
    assert.equal(badTime.code, 'CORR_ERR_BAD_TIME');
    assert.match(badTime.message, /^to "yesterday"/);
  });

  void it('GET /api/mdso/summary buckets counts per group', async () => {
    const res = await app.inject(`/api/mdso/summary?from=${base - 12 * HOUR}&to=${base}&step=3600&group_by=defect_code`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { bucketStartsMs: number[]; total: number; series: Array<{ key: string; total: number; counts: number[] }> };
    assert.equal(body.bucketStartsMs.length, 12);
    assert.equal(body.total, 10);
    const bpo = body.series.find(s => s.key === 'DE-1301')!;
    assert.equal(bpo.total, 5);
    assert.deepEqual(bpo.counts.slice(0, 8), [0, 0, 1, 1, 1, 1, 1, 0]);
    assert.equal(body.series.find(s => s.key === 'uncategorized')!.total, 3);
    const bySystem = (await app.inject(`/api/mdso/summary?from=${base - 12 * HOUR}&to=${base}&group_by=system`)).json() as { series: Array<{ key: string }> };
    assert.deepEqual(bySystem.series.map(s => s.key).sort(), ['MDSO', 'unknown']);
  });

  void it('GET /api/mdso/summary rejects absurd ranges', async () => {
    const cases = [`from=${base}&to=${base - 1}`, `from=0&to=${base}&step=1`, 'from=nonsense'];
    for (const qs of cases) {
      const res = await app.inject(`/api/mdso/summary?${qs}`);
      assert.equal(res.statusCode, 400, qs);
    }
    const tooMany = (await app.inject(`/api/mdso/summary?from=0&to=${base}&step=1`)).json() as { message: string };
    assert.match(tooMany.message, /buckets; at most 2000/);
  });

  void it('GET /api/mdso/issues lists and filters issues', async () => {
    const all = (await app.inject('/api/mdso/issues')).json() as { issues: Array<{ id: string; count: number; circuitCount: number; defectCode: string | null }> };
    assert.equal(all.issues.length, 3);
    const bpo = all.issues.find(i => i.id === bpoIssue)!;
    assert.equal(bpo.count, 5);
    assert.equal(bpo.circuitCount, 2);
    const ns = (await app.inject('/api/mdso/issues?product=NetworkService')).json() as { issues: unknown[] };
    assert.equal(ns.issues.length, 1);
    const uncat = (await app.inject('/api/mdso/issues?defect=uncategorized')).json() as { issues: Array<{ count: number }> };
    assert.equal(uncat.issues.length, 1);
    assert.equal(uncat.issues[0]!.count, 3);
  });

  void it('GET/PATCH /api/mdso/issues/{id}: detail, transitions, errors', async () => {
    const detail = await app.inject(`/api/mdso/issues/${bpoIssue}`);
    assert.equal(detail.statusCode, 200, detail.body);
    const d = detail.json() as { rule: { code: string } | null; history: unknown[]; recentErrors: unknown[]; circuits: unknown[] };
    assert.equal(d.rule?.code, 'DE-1301');
    assert.equal(d.history.length, 1);
    assert.equal(d.recentErrors.length, 5);
    assert.equal(d.circuits.length, 2);

    const ack = await app.inject({ method: 'PATCH', url: `/api/mdso/issues/${bpoIssue}`, payload: { state: 'acknowledged', assignee: 'ana', note: 'on it', actor: 'ana' } });
    assert.equal(ack.statusCode, 200, ack.body);
    const a = ack.json() as { issue: { state: string; assignee: string }; history: Array<{ from: string; to: string; actor: string; note: string }> };
    assert.equal(a.issue.state, 'acknowledged');
    assert.equal(a.issue.assignee, 'ana');
    assert.deepEqual(a.history.at(-1), { atMs: t.clock.ms, actor: 'ana', from: 'new', to: 'acknowledged', assignee: 'ana', note: 'on it' });

    const again = await app.inject({ method: 'PATCH', url: `/api/mdso/issues/${bpoIssue}`, payload: { state: 'acknowledged' } });
    assert.equal(again.statusCode, 409);
    assert.match((again.json() as { message: string }).message, /already acknowledged/);
    const regress = await app.inject({ method: 'PATCH', url: `/api/mdso/issues/${bpoIssue}`, payload: { state: 'regressed' } });
    assert.equal(regress.statusCode, 400);
    const badState = await app.inject({ method: 'PATCH', url: `/api/mdso/issues/${bpoIssue}`, payload: { state: 'closed' } });
    assert.equal(badState.statusCode, 400);
    const empty = await app.inject({ method: 'PATCH', url: `/api/mdso/issues/${bpoIssue}`, payload: {} });
    assert.equal(empty.statusCode, 400);
    const missing = await app.inject({ method: 'PATCH', url: '/api/mdso/issues/iss_0000000000000000', payload: { state: 'resolved' } });
    assert.equal(missing.statusCode, 404);
    assert.equal((await app.inject('/api/mdso/issues/iss_0000000000000000')).statusCode, 404);
  });

  void it('GET /api/mdso/defects returns the catalogue with match counts', async () => {
    const res = await app.inject('/api/mdso/defects');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { version: string; rules: Array<{ code: string; matchCount: number; lastMatchedMs: number | null }> };
    assert.equal(body.version, '2026.11.1');
    assert.equal(body.rules[0]!.code, 'DE-1000');
    assert.equal(body.rules.find(r => r.code === 'DE-1301')!.matchCount, 5);
    assert.equal(body.rules.find(r => r.code === 'DE-1001')!.matchCount, 2);
    assert.equal(body.rules.find(r => r.code === 'DE-1000')!.lastMatchedMs, null);
  });

  void it('GET /api/mdso/uncategorized clusters with a verified suggested rule', async () => {
    const res = await app.inject('/api/mdso/uncategorized');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { clusters: Array<{ template: string; count: number; examples: string[]; suggestedRule: { code: string; verified: boolean; yaml: string } }> };
    assert.equal(body.clusters.length, 1);
    const c = body.clusters[0]!;
    assert.equal(c.count, 3);
    assert.equal(c.template, 'Flux capacitor empty on <TID> - PeServiceProvisioner');
    assert.equal(c.examples.length, 3);
    assert.equal(c.suggestedRule.code, 'DE-1511');
    assert.equal(c.suggestedRule.verified, true);
    assert.match(c.suggestedRule.yaml, /code: DE-1511/);
  });

  void it('POST /api/mdso/defects/validate checks YAML without applying it', async () => {
    const good = 'version: "x"\nrules:\n  - code: DE-9000\n    title: t\n    category: c\n    system: MDSO\n    severity: minor\n    team: t\n    runbook: https://e.invalid/\n    patterns: [abc]\n';
    const ok = await app.inject({ method: 'POST', url: '/api/mdso/defects/validate', headers: { 'content-type': 'application/yaml' }, payload: good });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { valid: true, version: 'x', ruleCount: 1, problems: [] });
    const bad = await app.inject({ method: 'POST', url: '/api/mdso/defects/validate', headers: { 'content-type': 'text/plain' }, payload: good.replace('[abc]', "['(a)\\1']") });
    assert.equal(bad.statusCode, 200);
    const b = bad.json() as { valid: boolean; problems: Array<{ line: number; message: string }> };
    assert.equal(b.valid, false);
    assert.equal(b.problems[0]!.line, 10);
    assert.match(b.problems[0]!.message, /RE2/);
    assert.equal(t.analysis.catalogue.catalogue.version, '2026.11.1', 'validate never applies');
  });

  void it('every route is in the OpenAPI document', async () => {
    const app2 = await buildApp(t, true);
    try {
      const doc = app2.swagger() as { paths: Record<string, Record<string, unknown>> };
      for (const [path, method] of [
        ['/api/mdso/errors', 'get'],
        ['/api/mdso/summary', 'get'],
        ['/api/mdso/issues', 'get'],
        ['/api/mdso/issues/{id}', 'get'],
        ['/api/mdso/issues/{id}', 'patch'],
        ['/api/mdso/defects', 'get'],
        ['/api/mdso/defects/validate', 'post'],
        ['/api/mdso/defects/reload', 'post'],
        ['/api/mdso/uncategorized', 'get'],
      ] as const) {
        assert.ok(doc.paths[path]?.[method], `${method} ${path} missing`);
      }
    } finally {
      await app2.close();
    }
  });
});

void describe('GET /api/mdso/summary off bucket boundaries', () => {
  // Real failures happen at any millisecond: the fixtures above sit on hour boundaries, which hid fractional buckets.
  const t = newAnalysis();
  let app: FastifyInstance;
  const from = t.clock.ms - 6 * HOUR;
  const occurred = [from, from + 1, from + HOUR - 1, from + 1.5 * HOUR + 123, from + 4 * HOUR + 7_777, from + 6 * HOUR];
  type Summary = { bucketStartsMs: number[]; total: number; series: Array<{ key: string; total: number; counts: number[] }> };
  const summary = async (qs: string): Promise<Summary> => {
    const res = await app.inject(`/api/mdso/summary?${qs}`);
    assert.equal(res.statusCode, 200, `${qs}: ${res.body}`);
    return res.json() as Summary;
  };
  const sumOfSeries = (s: Summary) => s.series.reduce((a, x) => a + x.counts.reduce((b, c) => b + c, 0), 0);

  before(async () => {
    app = await buildApp(t);
    for (const [i, at] of occurred.entries()) {
      t.analysis.recordFailure(traceFailure(i % 2 ? BPO : UNREACH, { occurredAtMs: at, product: i % 2 ? 'ServiceIntent' : 'NetworkService' }));
    }
  });
  after(async () => {
    await app.close();
    await t.close();
  });

  void it('puts every error in its bucket, and the series add up to the total', async () => {
    const cases: Array<{ qs: string; total: number; perBucket: number[] }> = [
      // The error at exactly "to" ends the range: the last bucket counts it.
      { qs: `from=${from}&to=${from + 6 * HOUR}&step=3600`, total: 6, perBucket: [3, 1, 0, 0, 1, 1] },
      { qs: `from=${from}&to=${from + 6 * HOUR}&step=5400`, total: 6, perBucket: [3, 1, 1, 1] },
      { qs: `from=${from + 1}&to=${from + 5 * HOUR}&step=11`, total: 4, perBucket: [] },
      { qs: `from=${from - 1234}&to=${from + 7 * HOUR}&group_by=product`, total: 6, perBucket: [] },
      { qs: `from=${from - 1234}&to=${from + 7 * HOUR}&step=977&group_by=system`, total: 6, perBucket: [] },
    ];
    for (const c of cases) {
      const s = await summary(c.qs);
      assert.equal(s.total, c.total, c.qs);
      assert.equal(sumOfSeries(s), s.total, `${c.qs}: the series must add up to the total`);
      for (const series of s.series) {
        assert.equal(series.counts.length, s.bucketStartsMs.length, `${c.qs}: ${series.key} has one count per bucket`);
        assert.equal(series.counts.reduce((a, b) => a + b, 0), series.total, `${c.qs}: ${series.key} counts add up to its total`);
      }
      if (c.perBucket.length) {
        const perBucket = s.bucketStartsMs.map((_, i) => s.series.reduce((a, x) => a + (x.counts[i] ?? 0), 0));
        assert.deepEqual(perBucket, c.perBucket, c.qs);
      }
    }
  });

  void it('includes both ends like /api/mdso/errors, and takes from == to', async () => {
    for (const at of occurred) {
      for (const qs of [`from=${at}&to=${at}`, `from=${at - 1}&to=${at}`, `from=${at}&to=${at + 1}`]) {
        const errors = (await app.inject(`/api/mdso/errors?${qs}`)).json() as { errors: unknown[] };
        const s = await summary(qs);
        assert.equal(s.total, errors.errors.length, `${qs}: summary and errors disagree`);
        assert.ok(s.total >= 1, `${qs}: the error at ${at} is in the range`);
        assert.equal(sumOfSeries(s), s.total, qs);
        if (qs === `from=${at}&to=${at}`) assert.equal(s.total, 1, qs);
      }
    }
    const backwards = await app.inject(`/api/mdso/summary?from=${from}&to=${from - 1}`);
    assert.equal(backwards.statusCode, 400, backwards.body);
    assert.equal((backwards.json() as { code: string }).code, 'CORR_ERR_BAD_RANGE');
  });
});

void describe('POST /api/mdso/defects/reload', () => {
  void it('applies a good file and refuses a bad one, keeping the active catalogue', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'mdso-reload-'));
    const path = join(dir, 'rules.yaml');
    const file = (version: string, pattern: string) =>
      `version: "${version}"\nrules:\n  - code: DE-4000\n    title: t\n    category: c\n    system: MDSO\n    severity: info\n    team: t\n    runbook: https://e.invalid/\n    patterns: ['${pattern}']\n`;
    writeFileSync(path, file('a', 'x'));
    const t = newAnalysis({ config: { defectCatalogPath: path } });
    const app = await buildApp(t);
    try {
      writeFileSync(path, file('b', 'y'));
      const ok = await app.inject({ method: 'POST', url: '/api/mdso/defects/reload' });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual([(ok.json() as { reload: { ok: boolean } }).reload.ok, (ok.json() as { version: string }).version], [true, 'b']);
      writeFileSync(path, file('c', '(?=look)'));
      const bad = (await app.inject({ method: 'POST', url: '/api/mdso/defects/reload' })).json() as {
        reload: { ok: boolean; problems: Array<{ line: number }> };
        version: string;
      };
      assert.equal(bad.reload.ok, false);
      assert.equal(bad.reload.problems[0]!.line, 10);
      assert.equal(bad.version, 'b');
      const defects = (await app.inject('/api/mdso/defects')).json() as { version: string; lastReload: { ok: boolean } };
      assert.equal(defects.version, 'b');
      assert.equal(defects.lastReload.ok, false);
    } finally {
      await app.close();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
