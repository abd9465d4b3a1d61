import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildSimulator } from '../../../src/mdso/simulator/app.js';

const MARKET = '/bpocore/market/api/v1';
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

void describe('MDSO simulator writes and operations', () => {
  let app: FastifyInstance;
  let clock = T0;
  let auth: { authorization: string };
  before(async () => {
    app = await buildSimulator({ seed: 8, resourcesPerProduct: 5, anchorMs: T0, failureRate: 0.5, now: () => clock });
    const tok = await app.inject({ method: 'POST', url: '/tron/api/v1/oauth2/tokens', payload: { username: 'u', password: 'p' } });
    auth = { authorization: `Bearer ${tok.json().accessToken}` };
  });
  after(() => app.close());

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const res = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };

  void it('creates resources that go requested → activating → active or failed', async () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const created = await call('POST', `${MARKET}/resources?validate=false`, { label: `80.L1XX.00000${i}..CHTR`, resourceTypeId: 'charter.resourceTypes.ServiceMapper', properties: { circuit_id: `80.L1XX.00000${i}..CHTR` } });
      assert.equal(created.status, 201);
      assert.equal(created.body.orchState, 'requested');
      assert.equal(created.body.createdAt, new Date(clock).toISOString());
      clock += 1500;
      assert.equal((await call('GET', `${MARKET}/resources/${created.body.id}`)).body.orchState, 'activating');
      clock += 2000;
      const done = (await call('GET', `${MARKET}/resources/${created.body.id}`)).body;
      assert.ok(done.orchState === 'active' || done.orchState === 'failed', done.orchState);
      assert.equal(done.createdAt, created.body.createdAt);
      if (done.orchState === 'failed') {
        assert.match(done.reason, /^Failed task:/);
        const trace = await call('GET', `${MARKET}/resources?resourceTypeId=tosca.resourceTypes.TraceLog&p=label:${encodeURIComponent(done.label)}.orch_trace`);
        assert.ok(trace.body.items.some((t: { label: string }) => t.label === `${done.label}.orch_trace`), 'trace.body.items.some((t: { label: string }) => t.label === `${done.label}.orch_trace`)');
      }
      outcomes.add(done.orchState);
    }
    assert.deepEqual([...outcomes].sort(), ['active', 'failed']);
    assert.equal((await call('POST', `${MARKET}/resources`, { label: 'x' })).status, 400);
  });

  void it('patches, resyncs and deletes', async () => {
    const created = (await call('POST', `${MARKET}/resources`, { label: 'dev1', resourceTypeId: 'charter.resourceTypes.PortActivation', properties: { a: 1 } })).body;
    clock += 10;
    const patched = await call('PATCH', `${MARKET}/resources/${created.id}?validate=false&obfuscate=true`, { properties: { b: 2 }, desiredOrchState: 'terminated' });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.properties, { a: 1, b: 2 });
    assert.equal(patched.body.desiredOrchState, 'terminated');
    assert.ok(patched.body.revision > created.revision, 'patched.body.revision > created.revision');
    assert.equal((await call('POST', `${MARKET}/resources/${created.id}/resync?full=true`)).status, 202);
    assert.equal((await call('DELETE', `${MARKET}/resources/${created.id}`)).status, 204);
    assert.equal((await call('GET', `${MARKET}/resources/${created.id}`)).status, 404);
    assert.equal((await call('DELETE', `${MARKET}/resources/${created.id}`)).status, 404);
  });

  void it('runs operations: requested → executing → successful, or failed with a reason', async () => {
    const target = (await call('GET', `${MARKET}/resources?exactTypeId=charter.resourceTypes.PortActivation&limit=1`)).body.items[0];
    const get = await call('POST', `${MARKET}/resources/${target.id}/operations`, { interface: 'getPortStatus', inputs: { port: 'ge-0/0/1' } });
    assert.equal(get.status, 201);
    assert.equal(get.body.state, 'requested');
    assert.deepEqual(get.body.outputs, {});
    assert.equal(get.body.executionGroup, 'lifecycle');
    const bad = await call('POST', `${MARKET}/resources/${target.id}/operations`, { interface: 'setPortStatus', inputs: { status: 'SIDEWAYS' } });
    clock += 600;
    assert.equal((await call('GET', `${MARKET}/resources/${target.id}/operations/${get.body.id}`)).body.state, 'executing');
    clock += 1000;
    const done = (await call('GET', `${MARKET}/resources/${target.id}/operations/${get.body.id}`)).body;
    assert.equal(done.state, 'successful');
    assert.equal(done.outputs.status, 'UP');
    const failed = (await call('GET', `${MARKET}/resources/${target.id}/operations/${bad.body.id}`)).body;
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason, /status must be UP or DOWN/);
    const list = await call('GET', `${MARKET}/resources/${target.id}/operations`);
    assert.equal(list.body.total, 2);
    const missing = await call('GET', `${MARKET}/resources/${target.id}/operations/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.failureInfo.reason, /not found/);
  });
});
