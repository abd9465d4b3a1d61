import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildSimulator } from '../../../src/mdso/simulator/app.js';

const MARKET = '/bpocore/market/api/v1';
const ANCHOR = Date.parse('2026-03-01T12:00:00.000Z');
const CIRCUIT = /^\d{2}\.[A-Z0-9]{4}\.\d{6}\.\.(CHTR|TWCC)$/;
const TID = /^[A-Z0-9]{10}W$/;
const CATEGORIZED = /^(MDSO|Granite|SEnSE) \| (Connectivity Error|System Error|Incorrect Data|Missing Data|Process Error|Automation Unsupported) - [^:]+: .+/;

async function token(app: FastifyInstance, variant: 'oauth2' | 'legacy' = 'oauth2'): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: variant === 'oauth2' ? '/tron/api/v1/oauth2/tokens' : '/tron/api/v1/tokens',
    payload: { username: 'u', password: 'p', tenant: 'master' },
  });
  assert.equal(res.statusCode, 201);
  const body = res.json() as { accessToken?: string; token?: string };
  return (variant === 'oauth2' ? body.accessToken : body.token)!;
}

async function get(app: FastifyInstance, url: string, tok: string, scheme = 'Bearer') {
  const res = await app.inject({ url, headers: { authorization: `${scheme} ${tok}` } });
  // Simulator answers are probed field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.statusCode, body: res.body ? (res.json() as any) : null };
}

void describe('MDSO simulator API', () => {
  let app: FastifyInstance;
  let clock = ANCHOR;
  let tok: string;
  before(async () => {
    app = await buildSimulator({ seed: 3, resourcesPerProduct: 60, failureRate: 0.3, anchorMs: ANCHOR, tokenTtlSeconds: 60, now: () => clock });
    tok = await token(app);
  });
  after(() => app.close());

  void it('issues oauth2 tokens (accessToken, 20 hex) and legacy tokens (token)', async () => {
    const res = await app.inject({ method: 'POST', url: '/tron/api/v1/oauth2/tokens', payload: { username: 'u', password: 'p', tenant: 'master', expires_in: 30 } });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.match(body.accessToken, /^[0-9a-f]{20}$/);
    assert.equal(body.expiresIn, 30);
    assert.equal(body.tokenType, 'bearer');
    const legacy = await token(app, 'legacy');
    assert.match(legacy, /^[0-9a-f]{20}$/);
    assert.equal((await get(app, `${MARKET}/resources?limit=1`, legacy, 'token')).status, 200);
  });

  void it('rejects missing credentials', async () => {
    const res = await app.inject({ method: 'POST', url: '/tron/api/v1/oauth2/tokens', payload: { username: 'u' } });
    assert.equal(res.statusCode, 401);
  });

  void it('accepts Bearer and token schemes; anything else gets the api-gw 401 body', async () => {
    assert.equal((await get(app, `${MARKET}/resources?limit=1`, tok, 'Bearer')).status, 200);
    assert.equal((await get(app, `${MARKET}/resources?limit=1`, tok, 'token')).status, 200);
    const bad = await get(app, `${MARKET}/resources?limit=1`, 'nope');
    assert.equal(bad.status, 401);
    assert.equal(bad.body.errors[0].msg_code, 'bpapigw-300');
    assert.equal(bad.body.errors[0].http_path, `${MARKET}/resources`);
  });

  void it('expires tokens after their TTL and deletes them with 204', async () => {
    const t = await token(app);
    clock += 61_000;
    assert.equal((await get(app, `${MARKET}/resources?limit=1`, t)).status, 401);
    clock = ANCHOR;
    const t2 = await token(app);
    const del = await app.inject({ method: 'DELETE', url: `/tron/api/v1/oauth2/tokens/${t2}` });
    assert.equal(del.statusCode, 204);
    assert.equal((await get(app, `${MARKET}/resources?limit=1`, t2)).status, 401);
  });

  void it('pages with offset/limit in ascending createdAt order; limit=0 gives only the total', async () => {
    const type = 'charter.resourceTypes.ServiceMapper';
    const all = await get(app, `${MARKET}/resources?resourceTypeId=${type}`, tok);
    assert.equal(all.body.total, 60);
    assert.equal(all.body.limit, 1000);
    const created = all.body.items.map((r: { createdAt: string }) => r.createdAt);
    assert.deepEqual(created, [...created].sort());
    const ids: string[] = [];
    for (let offset = 0; offset < 60; offset += 25) {
      const page = await get(app, `${MARKET}/resources?resourceTypeId=${type}&offset=${offset}&limit=25`, tok);
      assert.equal(page.body.offset, offset);
      ids.push(...page.body.items.map((r: { id: string }) => r.id));
    }
    assert.deepEqual(ids, all.body.items.map((r: { id: string }) => r.id));
    const zero = await get(app, `${MARKET}/resources?resourceTypeId=${type}&limit=0`, tok);
    assert.deepEqual(zero.body, { items: [], total: 60, offset: 0, limit: 0 });
    const bad = await get(app, `${MARKET}/resources?limit=-1`, tok);
    assert.equal(bad.status, 400);
    assert.match(bad.body.failureInfo.reason, /limit/);
  });

  void it('includes subtypes for resourceTypeId but not for exactTypeId', async () => {
    const sub = await get(app, `${MARKET}/resources?resourceTypeId=tosca.resourceTypes.NetworkFunction`, tok);
    assert.ok(sub.body.total > 0, 'sub.body.total > 0');
    assert.ok(sub.body.items.every((r: { resourceTypeId: string }) => r.resourceTypeId.endsWith('.resourceTypes.NetworkFunction') && !r.resourceTypeId.startsWith('tosca.')), 'sub.body.items.every((r: { resourceTypeId: string }) => r.resourceTypeId.endsWith(\'.resourceTypes.NetworkFunction\') && !r.resourceTypeId.startsWith(\'tosca.\'))');
    const exact = await get(app, `${MARKET}/resources?exactTypeId=tosca.resourceTypes.NetworkFunction`, tok);
    assert.equal(exact.body.total, 0);
    assert.ok(sub.body.items.every((r: { properties: { server_password: string } }) => r.properties.server_password === '**********'), 'secrets obfuscated by default');
    const clear = await get(app, `${MARKET}/resources/${sub.body.items[0].id}?obfuscate=false`, tok);
    assert.match(clear.body.properties.server_password, /^pw-[0-9a-f]{12}$/);
    const one = sub.body.items[0].resourceTypeId;
    const exactSub = await get(app, `${MARKET}/resources?exactTypeId=${one}`, tok);
    assert.ok(exactSub.body.total > 0 && exactSub.body.total <= sub.body.total, 'exactSub.body.total > 0 && exactSub.body.total <= sub.body.total');
    const count = await get(app, `${MARKET}/resources/count?exactTypeId=${one}`, tok);
    assert.deepEqual(count.body, { count: exactSub.body.total });
  });

  void it('filters with q (exact, %3A, trailing comma) and p (wildcards)', async () => {
    const failed = await get(app, `${MARKET}/resources?resourceTypeId=charter.resourceTypes.ServiceMapper&q=orchState%3Afailed,`, tok);
    assert.ok(failed.body.total > 0, 'failed.body.total > 0');
    assert.ok(failed.body.items.every((r: { orchState: string }) => r.orchState === 'failed'), 'failed.body.items.every((r: { orchState: string }) => r.orchState === \'failed\')');
    const target = failed.body.items[0];
    const byCircuit = await get(app, `${MARKET}/resources?q=properties.circuit_id:${encodeURIComponent(target.properties.circuit_id)}`, tok);
    assert.ok(byCircuit.body.items.some((r: { id: string }) => r.id === target.id), 'byCircuit.body.items.some((r: { id: string }) => r.id === target.id)');
    const traceByOrigin = await get(app, `${MARKET}/resources?resourceTypeId=tosca.resourceTypes.TraceLog&q=properties.origination_id:${target.id}&limit=10`, tok);
    const traceByLabel = await get(app, `${MARKET}/resources?resourceTypeId=tosca.resourceTypes.TraceLog&p=label:${encodeURIComponent(' ' + target.label + '.orch_trace')}`, tok);
    assert.ok(traceByLabel.body.items.some((r: { label: string }) => r.label === `${target.label}.orch_trace`), 'traceByLabel.body.items.some((r: { label: string }) => r.label === `${target.label}.orch_trace`)');
    if (traceByOrigin.body.total > 0) assert.equal(traceByOrigin.body.items[0].properties.origination_id, target.id);
    const wild = await get(app, `${MARKET}/resources?resourceTypeId=charter.resourceTypes.ServiceMapper&p=label:*..CHTR`, tok);
    assert.ok(wild.body.items.every((r: { label: string }) => r.label.endsWith('..CHTR')), 'wild.body.items.every((r: { label: string }) => r.label.endsWith(\'..CHTR\'))');
    assert.equal((await get(app, `${MARKET}/resources?q=nocolon`, tok)).status, 400);
  });

  void it('serves a resource by id, 404 with failureInfo otherwise', async () => {
    const list = await get(app, `${MARKET}/resources?limit=1`, tok);
    const one = await get(app, `${MARKET}/resources/${list.body.items[0].id}`, tok);
    assert.equal(one.body.id, list.body.items[0].id);
    const missing = await get(app, `${MARKET}/resources/00000000-0000-4000-8000-000000000000`, tok);
    assert.equal(missing.status, 404);
    assert.match(missing.body.failureInfo.reason, /Resource 00000000-0000-4000-8000-000000000000 not found/);
  });

  void it('pages dependencies by token; the last page repeats the token it was asked with', async () => {
    const failed = await get(app, `${MARKET}/resources?resourceTypeId=charter.resourceTypes.NetworkService&q=orchState:failed`, tok);
    const parent = failed.body.items.find((r: { reason: string }) => /Error: Resource [0-9a-f-]{36} failed:/.test(r.reason));
    assert.ok(parent, 'a NetworkService failed through a child');
    const all = await get(app, `${MARKET}/resources/${parent.id}/dependencies`, tok);
    assert.equal(all.body.items.length, 2, 'the failed child and the TraceLog');
    assert.ok(all.body.items.some((r: { resourceTypeId: string }) => r.resourceTypeId === 'tosca.resourceTypes.TraceLog'), 'all.body.items.some((r: { resourceTypeId: string }) => r.resourceTypeId === \'tosca.resourceTypes.TraceLog\')');
    const first = await get(app, `${MARKET}/resources/${parent.id}/dependencies?limit=1`, tok);
    assert.ok(first.body.nextPageToken, 'first.body.nextPageToken');
    {
      const second = await get(app, `${MARKET}/resources/${parent.id}/dependencies?limit=1&pageToken=${first.body.nextPageToken}`, tok);
      let last = second;
      let sent = first.body.nextPageToken;
      while (last.body.nextPageToken !== sent) {
        sent = last.body.nextPageToken;
        last = await get(app, `${MARKET}/resources/${parent.id}/dependencies?limit=1&pageToken=${sent}`, tok);
      }
      assert.equal(last.body.nextPageToken, sent, 'the last page repeats the token');
      assert.equal(last.body.items[0].id, all.body.items[1].id);
    }
    const single = await get(app, `${MARKET}/resources/${parent.id}/dependencies?limit=10`, tok);
    assert.equal(single.body.nextPageToken, undefined, 'one page, no token');
    const dependents = await get(app, `${MARKET}/resources/${all.body.items[0].id}/dependents`, tok);
    assert.equal(dependents.status, 200);
    assert.deepEqual(dependents.body.items.map((r: { id: string }) => r.id), [parent.id]);
  });

  void it('lists products filtered by resourceTypeId', async () => {
    const res = await get(app, `${MARKET}/products?includeInactive=false&q=resourceTypeId%3Acharter.resourceTypes.ServiceMapper`, tok);
    assert.equal(res.body.total, 1);
    assert.equal(res.body.items[0].providerData.template, 'charter.serviceTemplates.ServiceMapper');
    assert.equal(res.body.items[0].domainId, 'built-in');
    const byId = await get(app, `${MARKET}/products/${res.body.items[0].id}`, tok);
    assert.equal(byId.body.resourceTypeId, 'charter.resourceTypes.ServiceMapper');
  });

  void it('generates documented identifier shapes and failure formats', async () => {
    const store = app.mdsoSim.store;
    const services = store.search({ exactTypeId: 'charter.resourceTypes.ServiceMapper' });
    assert.ok(services.every(r => CIRCUIT.test(r.label) && r.properties['circuit_id'] === r.label), 'services.every(r => CIRCUIT.test(r.label) && r.properties[\'circuit_id\'] === r.label)');
    const cpe = store.search({ exactTypeId: 'charter.resourceTypes.cpeActivator' });
    assert.ok(cpe.every(r => TID.test(r.label.replace('.cpe_activator', ''))), 'cpe.every(r => TID.test(r.label.replace(\'.cpe_activator\', \'\')))');
    const msa = store.search({ exactTypeId: 'charter.resourceTypes.ManagedServicesActivator' });
    assert.ok(msa.every(r => r.label.endsWith('.CHTRSE.COM')), 'msa.every(r => r.label.endsWith(\'.CHTRSE.COM\'))');

    const failed = store.search({ q: 'orchState:failed' }).filter(r => r.resourceTypeId.startsWith('charter.') && r.reason.startsWith('Failed task:'));
    assert.ok(failed.some(r => r.reason.startsWith("Failed task:\n(1) activate: Failed plan 'activate'\n(exit code: 1):Error in ")), '2021 wrapper');
    assert.ok(failed.some(r => r.reason.startsWith("Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in ")), '2023 wrapper');
    assert.ok(failed.some(r => /Error: Resource [0-9a-f-]{36} failed:/.test(r.reason)), 'child failures');
    assert.ok(failed.every(r => /Please check file: plan-script-[0-9a-f-]{36}-activate-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(r.reason)), 'failed.every(r => /Please check file: plan-script-[0-9a-f-]{36}-activate-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$/.test(r.reason))');
    const traces = store.search({ exactTypeId: 'tosca.resourceTypes.TraceLog' });
    const failingEntries = traces.map(t => (t.properties['orchestration_trace'] as Array<{ state: string; categorized_error?: string; resource_id: string }>).find(e => e.state === 'FAILED')!);
    assert.ok(failingEntries.some(e => e.categorized_error && CATEGORIZED.test(e.categorized_error)), 'categorized');
    assert.ok(failingEntries.some(e => e.categorized_error && !e.categorized_error.includes(' | ')), 'uncategorized');
    assert.ok(failingEntries.some(e => e.categorized_error === undefined), 'raw exceptions');
    assert.ok(failingEntries.some(e => e.categorized_error?.startsWith('MDSO | Process Error - Exception Raised: class: ')), 'caught exceptions');
    for (const t of traces) {
      assert.ok(t.label.endsWith('.orch_trace'), 't.label.endsWith(\'.orch_trace\')');
      assert.equal(typeof t.properties['start_time_sec'], 'number');
      const entries = t.properties['orchestration_trace'] as Array<{ timestamp: string; elapsed_time: number; state: string }>;
      assert.equal(entries[0]!.state, 'STARTED');
      assert.equal(entries.at(-1)!.state, 'FAILED');
      assert.ok(entries.every(e => /^\d{2}:\d{2}:\d{2}$/.test(e.timestamp)), 'entries.every(e => /^\\d{2}:\\d{2}:\\d{2}$/.test(e.timestamp))');
    }
    const ns = store.search({ exactTypeId: 'charter.resourceTypes.NetworkService', q: 'orchState:failed' });
    assert.ok(ns.every(r => typeof r.properties['network_service_error'] === 'string' && (r.properties['network_service_error'] as string).length <= 150 && (r.properties['network_service_error'] as string).length > 0), 'ns.every(r => typeof r.properties[\'network_service_error\'] === \'string\' && (r.properties[\'network_service_error\'] as string).length <= 150 && (r.properties[\'network_service_error\'] as string).length > 0)');
  });

  void it('adds and fails resources at runtime and validates fault settings', async () => {
    const added = await app.inject({ method: 'POST', url: '/__sim/resources', payload: { resourceTypeId: 'charter.resourceTypes.cpeActivator', failed: true } });
    assert.equal(added.statusCode, 201);
    const { resource, traceLog } = added.json();
    assert.equal(resource.orchState, 'failed');
    assert.equal(resource.updatedAt, new Date(clock).toISOString());
    assert.equal(traceLog.label, `${resource.label}.orch_trace`);
    assert.equal((await app.inject({ method: 'POST', url: `/__sim/resources/${resource.id}/fail` })).statusCode, 409);
    assert.equal((await app.inject({ method: 'POST', url: '/__sim/resources', payload: { resourceTypeId: 'nope' } })).statusCode, 400);
    const healthy = app.mdsoSim.store.search({ exactTypeId: 'charter.resourceTypes.PortActivation', q: 'orchState:active' })[0]!;
    const failed = await app.inject({ method: 'POST', url: `/__sim/resources/${healthy.id}/fail` });
    assert.equal(failed.statusCode, 200);
    assert.equal(failed.json().resource.orchState, 'failed');
    assert.equal(failed.json().traceLog, null, 'PortActivation writes no TraceLog');
    const badFault = await app.inject({ method: 'POST', url: '/__sim/faults', payload: { latencyMs: -1 } });
    assert.equal(badFault.statusCode, 400);
    assert.match(badFault.json().failureInfo.reason, /latencyMs/);
    assert.equal((await app.inject({ method: 'POST', url: '/__sim/faults', payload: { bogus: 1 } })).statusCode, 400);
    const stats = (await app.inject({ url: '/__sim/stats' })).json();
    assert.ok(stats.calls['GET /bpocore/market/api/v1/resources']['200'] > 0, 'stats.calls[\'GET /bpocore/market/api/v1/resources\'][\'200\'] > 0');
    assert.ok(stats.calls['GET /bpocore/market/api/v1/resources/:id']['404'] >= 1, 'stats.calls[\'GET /bpocore/market/api/v1/resources/:id\'][\'404\'] >= 1');
  });
});

void describe('MDSO simulator determinism and faults', () => {
  void it('the same seed and anchor give the same data; another seed does not', async () => {
    const a = await buildSimulator({ seed: 9, resourcesPerProduct: 30, anchorMs: ANCHOR });
    const b = await buildSimulator({ seed: 9, resourcesPerProduct: 30, anchorMs: ANCHOR });
    const c = await buildSimulator({ seed: 10, resourcesPerProduct: 30, anchorMs: ANCHOR });
    try {
      const dump = (x: FastifyInstance) => JSON.stringify(x.mdsoSim.store.search({}));
      assert.equal(dump(a), dump(b));
      assert.notEqual(dump(a), dump(c));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  void it('injects 5xx, malformed JSON, token expiry, truncation and duplicates', async () => {
    const app = await buildSimulator({ seed: 1, resourcesPerProduct: 20, anchorMs: ANCHOR, products: ['charter.resourceTypes.ServiceMapper'] });
    try {
      const tok = await token(app);
      const url = `${MARKET}/resources?exactTypeId=charter.resourceTypes.ServiceMapper`;
      app.mdsoSim.faults.errorNext = 1;
      assert.equal((await get(app, url, tok)).status, 503);
      assert.equal((await get(app, url, tok)).status, 200);
      app.mdsoSim.faults.malformedJsonNext = 1;
      const broken = await app.inject({ url, headers: { authorization: `Bearer ${tok}` } });
      assert.throws(() => JSON.parse(broken.body));
      app.mdsoSim.faults.expireTokensAfterCalls = 1;
      assert.equal((await get(app, url, tok)).status, 200);
      assert.equal((await get(app, url, tok)).status, 401);
      const fresh = await token(app);
      app.mdsoSim.faults.truncatePages = true;
      const truncated = await get(app, `${url}&limit=10`, fresh);
      assert.equal(truncated.body.items.length, 5);
      assert.equal(truncated.body.total, 20);
      app.mdsoSim.faults.truncatePages = false;
      app.mdsoSim.faults.duplicateAcrossPages = true;
      const p1 = await get(app, `${url}&limit=10`, fresh);
      const p2 = await get(app, `${url}&offset=10&limit=10`, fresh);
      assert.equal(p2.body.items[0].id, p1.body.items[9].id, 'the next page repeats the last item');
      assert.equal(p2.body.total, 21);
    } finally {
      await app.close();
    }
  });
});
