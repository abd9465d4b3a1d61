// Refused credentials: one login attempt per poll, then scheduled polls back off. A directory behind MDSO
// (LDAP/AD) locks the service account after a few failed logins; one failed login per product per poll
// (7 products every interval) locked it within a poll or two.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MDSO_PRODUCTS } from '../../../src/config/config.js';
import { AUTH_BACKOFF_CAP_MS, nextPollDelayMs } from '../../../src/mdso/poller/poller.js';
import { buildMdsoApp, collect, mdsoConfig, startSim, status, until, type RunningSim } from './harness.js';

const TOKEN_CALL = 'POST /tron/api/v1/oauth2/tokens';
const RESOURCES_CALL = 'GET /bpocore/market/api/v1/resources';
const WRONG_PASSWORD = 'wrong-password-0815';

function metricValue(text: string, name: string): number | null {
  const line = text.split('\n').find(l => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.split(' ').pop());
}

void describe('nextPollDelayMs', () => {
  void it('doubles the interval per refused poll up to the cap, never below the interval', () => {
    const min = 60_000;
    const cases: Array<[intervalMs: number, refusedPolls: number, expectedMs: number]> = [
      [5 * min, 0, 5 * min],
      [5 * min, 1, 10 * min],
      [5 * min, 2, 20 * min],
      [5 * min, 3, AUTH_BACKOFF_CAP_MS],
      [5 * min, 2000, AUTH_BACKOFF_CAP_MS],
      [60 * min, 0, 60 * min],
      [60 * min, 4, 60 * min],
    ];
    for (const [interval, polls, expected] of cases) assert.equal(nextPollDelayMs(interval, polls), expected, `${interval} ms after ${polls} refused polls`);
  });
});

void describe('MDSO poller when MDSO refuses the credentials', () => {
  let sim: RunningSim;
  before(async () => {
    sim = await startSim({ seed: 5, resourcesPerProduct: 20, failureRate: 0.25 });
  });
  after(async () => {
    await sim.admin('DELETE', '/__sim/faults');
    await sim.close();
  });

  const tokenRequests = async (): Promise<{ total: number; byStatus: Record<string, number>; resources: number }> => {
    const stats = (await sim.admin('GET', '/__sim/stats')).json as { calls: Record<string, Record<string, number>> };
    const byStatus = stats.calls[TOKEN_CALL] ?? {};
    const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
    return { total: sum(byStatus), byStatus, resources: sum(stats.calls[RESOURCES_CALL]) };
  };

  const cases: Array<{ name: string; status: string; fault?: Record<string, unknown>; password?: string }> = [
    { name: 'wrong password (401)', status: '401', password: WRONG_PASSWORD },
    { name: 'token request answered 401', status: '401', fault: { refuseTokens: 401 } },
    { name: 'account locked or disabled (403)', status: '403', fault: { refuseTokens: 403 } },
  ];

  for (const c of cases) {
    void it(`logs in once per poll and backs off: ${c.name}`, async () => {
      const logLines: string[] = [];
      const config = mdsoConfig({ url: sim.url, products: [...DEFAULT_MDSO_PRODUCTS], pollIntervalSeconds: 300, ...(c.password ? { password: c.password } : {}) });
      const t = await buildMdsoApp(config, { start: false, logLines });
      try {
        await sim.admin('DELETE', '/__sim/faults');
        await sim.admin('DELETE', '/__sim/stats');
        if (c.fault) assert.equal((await sim.admin('POST', '/__sim/faults', c.fault)).status, 200);

        for (const [poll, delaySeconds] of [[1, 600], [2, 1200], [3, 1800], [4, 1800]] as const) {
          const r = await collect(t.app);
          assert.equal(r.json.poll.outcome, 'failed', JSON.stringify(r.json.poll));
          assert.match(r.json.poll.errorMessage, new RegExp(`rejected the credentials of user "sim-user" \\(.* answered ${c.status}\\)`));
          assert.equal(r.json.products.length, 1, 'the poll stops at the first product: the others would only log in again');
          const calls = await tokenRequests();
          assert.deepEqual(calls.byStatus, { [c.status]: poll }, `one token request per poll, after ${poll} polls`);
          assert.equal(calls.resources, 0, 'nothing is asked without a token');
          const s = await status(t.app);
          assert.equal(s.authRejected?.polls, poll, JSON.stringify(s.authRejected));
          assert.equal(s.authRejected.retryDelaySeconds, delaySeconds, `the next scheduled poll waits ${delaySeconds} s`);
          assert.match(s.authRejected.message, /rejected the credentials of user "sim-user"/);
          const registryText = await t.registry.metrics();
          assert.equal(metricValue(registryText, 'mdso_auth_rejected_polls'), poll, registryText);
        }
        assert.ok(logLines.some(l => l.includes('MDSO_USER / MDSO_PASS')), 'the log names the settings to fix');
        assert.ok(!logLines.join('\n').includes(WRONG_PASSWORD), 'the password never reaches the log');

        if (c.fault) {
          // Credentials working again: the next poll scans everything and the back-off ends.
          await sim.admin('DELETE', '/__sim/faults');
          const ok = await collect(t.app);
          assert.equal(ok.json.poll.outcome, 'ok', JSON.stringify(ok.json.poll));
          assert.equal(ok.json.products.length, DEFAULT_MDSO_PRODUCTS.length);
          assert.equal((await status(t.app)).authRejected, null);
          assert.equal(metricValue(await t.registry.metrics(), 'mdso_auth_rejected_polls'), 0);
        }
      } finally {
        await sim.admin('DELETE', '/__sim/faults');
        await t.close();
      }
    });
  }

  void it('schedules the next poll after the backed-off delay', async () => {
    const t = await buildMdsoApp(mdsoConfig({ url: sim.url, products: [...DEFAULT_MDSO_PRODUCTS], pollIntervalSeconds: 300, password: WRONG_PASSWORD }));
    try {
      const s = await until(async () => {
        const st = await status(t.app);
        return st.lastPoll?.outcome === 'failed' && st.nextPollAt ? st : null;
      }, 'the first scheduled poll to be refused');
      const waitMs = Date.parse(s.nextPollAt) - Date.parse(s.lastPoll.endedAt);
      assert.ok(Math.abs(waitMs - 600_000) < 5_000, `next poll ${waitMs} ms after the refused one, not the 300 s interval`);
    } finally {
      await t.close();
    }
  });
});
