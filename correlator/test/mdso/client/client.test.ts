import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MdsoClient, type MdsoClientOptions, type MdsoError } from '../../../src/mdso/client/mdso-client.js';
import { buildMdsoApp, collect, mdsoConfig, SIM_PASS, SIM_USER, startSim, type RunningSim } from '../poller/harness.js';

const SM = 'charter.resourceTypes.ServiceMapper';

function client(sim: RunningSim, overrides: Partial<MdsoClientOptions> = {}, seen: string[] = []): MdsoClient {
  return new MdsoClient({
    baseUrl: sim.url,
    username: SIM_USER,
    password: SIM_PASS,
    tenant: 'master',
    authVariant: 'oauth2',
    requestTimeoutMs: 2000,
    maxRetries: 2,
    sleep: async () => undefined,
    onRequest: (endpoint, status) => seen.push(`${endpoint} ${status}`),
    ...overrides,
  });
}

async function stats(sim: RunningSim) {
  return (await sim.admin('GET', '/__sim/stats')).json as { tokensIssued: number; tokensDeleted: number; activeTokens: number; calls: Record<string, Record<string, number>> };
}

void describe('MDSO client over HTTP', () => {
  let sim: RunningSim;
  before(async () => {
    sim = await startSim({ seed: 4, resourcesPerProduct: 40, failureRate: 0.4, products: [SM] });
  });
  after(() => sim.close());

  void it('pages to the end (offset + items.length >= total), also through truncated pages', async () => {
    const c = client(sim);
    try {
      const expected = sim.app.mdsoSim.store.search({ resourceTypeId: SM }).map(r => r.id);
      for (const truncatePages of [false, true]) {
        await sim.admin('POST', '/__sim/faults', { truncatePages });
        const ids: string[] = [];
        for await (const page of c.resourcePages({ resourceTypeId: SM }, 0, 7)) ids.push(...page.items.map(i => i.id));
        assert.deepEqual(ids, expected, `truncatePages=${truncatePages}`);
      }
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      c.close();
    }
  });

  void it('with an overlap, an item leaving the list between two pages does not make the next page skip one', async () => {
    const c = client(sim);
    try {
      for (const overlap of [0, 2]) {
        const listed = sim.app.mdsoSim.store.search({ resourceTypeId: SM, q: 'orchState:failed' });
        assert.ok(listed.length > 10, 'listed.length > 10');
        const seen = new Set<string>();
        let repaired: string | null = null;
        for await (const page of c.resourcePages({ resourceTypeId: SM, q: 'orchState:failed' }, 0, 5, undefined, overlap)) {
          for (const item of page.items) seen.add(item.id);
          if (!repaired) {
            repaired = page.items[0]!.id;
            sim.app.mdsoSim.store.get(repaired)!.orchState = 'active';
          }
        }
        const missed = listed.filter(r => r.id !== repaired && !seen.has(r.id));
        if (overlap === 0) assert.equal(missed.length, 1, 'plain offset paging skips the item that moved back');
        else assert.deepEqual(missed, []);
        sim.app.mdsoSim.store.get(repaired!)!.orchState = 'failed';
      }
    } finally {
      c.close();
    }
  });

  void it('caches the token, refreshes it once on 401, and deletes it', async () => {
    await sim.admin('DELETE', '/__sim/stats');
    const c = client(sim);
    try {
      await c.resourcePage({ resourceTypeId: SM }, 0, 5);
      await c.resourcePage({ resourceTypeId: SM }, 5, 5);
      assert.equal((await stats(sim)).tokensIssued, 1, 'one token for many calls');
      await sim.admin('POST', '/__sim/faults', { expireTokensAfterCalls: 0 });
      const page = await c.resourcePage({ resourceTypeId: SM }, 0, 5);
      assert.equal(page.items.length, 5);
      const s = await stats(sim);
      assert.equal(s.tokensIssued, 2);
      assert.equal(s.calls['GET /bpocore/market/api/v1/resources']?.['401'], 1);
      assert.equal(await c.deleteToken(), true);
      const after = await stats(sim);
      assert.equal(after.tokensDeleted, 1);
      assert.equal(after.activeTokens, 0);
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      c.close();
    }
  });

  void it('retries 5xx and broken JSON with backoff, then gives up with a retryable error', async () => {
    const seen: string[] = [];
    const delays: number[] = [];
    const c = client(sim, { sleep: async ms => void delays.push(ms), random: () => 0.5, retryBaseDelayMs: 100 }, seen);
    try {
      await sim.admin('POST', '/__sim/faults', { errorNext: 1, malformedJsonNext: 1 });
      const page = await c.resourcePage({ resourceTypeId: SM }, 0, 3);
      assert.equal(page.items.length, 3);
      assert.deepEqual(seen.slice(0, 3), ['/tron/api/v1/oauth2/tokens 503', '/tron/api/v1/oauth2/tokens invalid_json', '/tron/api/v1/oauth2/tokens 201']);
      assert.deepEqual(delays, [75, 150], 'exponential with jitter');
      await sim.admin('POST', '/__sim/faults', { errorNext: 10 });
      await assert.rejects(c.resourcePage({ resourceTypeId: SM }, 0, 3), (e: MdsoError) => e.retryable && e.status === '503');
      assert.equal(seen.filter(s => s === '/bpocore/market/api/v1/resources 503').length, 3, 'first try + 2 retries');
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      c.close();
    }
  });

  void it('does not retry a 404 and times out slow answers', async () => {
    const seen: string[] = [];
    const c = client(sim, { requestTimeoutMs: 80, maxRetries: 1 }, seen);
    try {
      await assert.rejects(c.getJson('/bpocore/market/api/v1/resources/{id}', '/bpocore/market/api/v1/resources/nope', {}), (e: MdsoError) => e.status === '404' && !e.retryable);
      assert.equal(seen.filter(s => s.endsWith(' 404')).length, 1);
      await sim.admin('POST', '/__sim/faults', { latencyMs: 300 });
      await assert.rejects(c.resourcePage({ resourceTypeId: SM }, 0, 3), (e: MdsoError) => e.status === 'timeout' && /within 80 ms/.test(e.message));
    } finally {
      await sim.admin('DELETE', '/__sim/faults');
      c.close();
    }
  });

  void it('names the user but never the password when credentials are rejected', async () => {
    const c = client(sim, { password: 'wrong-password-123' });
    try {
      await assert.rejects(c.resourcePage({ resourceTypeId: SM }, 0, 1), (e: Error) => /rejected the credentials of user "sim-user"/.test(e.message) && !e.message.includes('wrong-password-123'));
    } finally {
      c.close();
    }
  });

  void it('finds TraceLogs by origination_id, else by exact label', async () => {
    const c = client(sim);
    try {
      const traces = sim.app.mdsoSim.store.search({ exactTypeId: 'tosca.resourceTypes.TraceLog' });
      const withOrigin = traces.find(t => typeof t.properties['origination_id'] === 'string')!;
      const originId = withOrigin.properties['origination_id'] as string;
      const origin = sim.app.mdsoSim.store.get(originId)!;
      assert.deepEqual((await c.findTraceLogs(origin.id, origin.label)).map(t => t.id), [withOrigin.id]);
      const labelOnly = traces.find(t => t.properties['origination_id'] === undefined);
      assert.ok(labelOnly, 'the dataset has TraceLogs without origination_id');
      const owner = sim.app.mdsoSim.store.search({ exactTypeId: SM }).find(r => `${r.label}.orch_trace` === labelOnly.label)!;
      assert.deepEqual((await c.findTraceLogs(owner.id, owner.label)).map(t => t.id), [labelOnly.id]);
      const healthy = sim.app.mdsoSim.store.search({ exactTypeId: SM, q: 'orchState:active' })[0]!;
      assert.deepEqual(await c.findTraceLogs(healthy.id, healthy.label), []);
    } finally {
      c.close();
    }
  });
});

void describe('MDSO client over TLS with a private CA', { skip: hasOpenssl() ? false : 'openssl is not installed' }, () => {
  let dir: string;
  let sim: RunningSim;
  let cert: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mdso-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    sim = await startSim({ seed: 2, resourcesPerProduct: 10, products: [SM], https: { key: readFileSync(join(dir, 'key.pem')), cert } });
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('refuses the self-signed certificate without the CA', async () => {
    const c = client(sim, { maxRetries: 0 });
    try {
      await assert.rejects(c.resourcePage({ resourceTypeId: SM }, 0, 1), (e: Error) => /self.signed|certificate/i.test(e.message));
    } finally {
      c.close();
    }
  });

  void it('trusts it with the CA', async () => {
    const c = client(sim, { ca: cert });
    try {
      const page = await c.resourcePage({ resourceTypeId: SM }, 0, 3);
      assert.equal(page.items.length, 3);
    } finally {
      c.close();
    }
  });

  void it('polls through the plugin with MDSO_CA_FILE, and refuses an unreadable CA file at start-up', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [SM], caFile: join(dir, 'cert.pem') }), { start: false });
    try {
      const r = await collect(t.app);
      assert.equal(r.json.poll.outcome, 'ok');
    } finally {
      await t.close();
    }
    await assert.rejects(buildMdsoApp(mdsoConfig({ url: sim.url, caFile: join(dir, 'missing.pem') })), /MDSO_CA_FILE/);
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
