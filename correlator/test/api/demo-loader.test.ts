// `npm run demo` against a correlator that asks for credentials: it takes them from the same
// settings as the correlator, or from user:password in the URL, and never prints a password.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { clientAuthorization } from '../../src/api/auth.js';
import { loadAuthConfig } from '../../src/config/config.js';
import { demoTarget, sendDemo } from '../../src/demo/send-demo.js';
import { buildTestApp } from './app-fixture.js';

const PASSWORD = 'pw-Zq7Kx2pW';
const TOKEN = 'tok-0123456789abcdef';
const BASIC = { AUTH_MODE: 'basic', AUTH_USERNAME: 'grafana', AUTH_PASSWORD: PASSWORD };
const BEARER = { AUTH_MODE: 'bearer', AUTH_TOKEN: TOKEN };

type UrlForm = 'plain' | 'with credentials' | 'with a wrong password';

// [what, correlator env, demo env, URL form, error expected (null: the demo loads)]
const cases: Array<[string, Record<string, string>, Record<string, string>, UrlForm, RegExp | null]> = [
  ['basic auth from AUTH_* settings', BASIC, BASIC, 'plain', null],
  ['basic auth from the original design names', BASIC, { ENABLE_BASIC_AUTH: 'true', BASIC_AUTH_USER: 'grafana', BASIC_AUTH_PASS: PASSWORD }, 'plain', null],
  ['bearer auth from AUTH_TOKEN', BEARER, BEARER, 'plain', null],
  ['basic auth from user:password in the URL', BASIC, {}, 'with credentials', null],
  ['no auth', {}, {}, 'plain', null],
  ['no credentials given', BASIC, {}, 'plain', /answered 401: the correlator asks for credentials; give them as for the correlator \(AUTH_MODE/],
  ['a wrong password in the URL', BASIC, {}, 'with a wrong password', /answered 401: the credentials were refused/],
  ['credentials both in the URL and the settings', BASIC, BASIC, 'with credentials', /both in the URL and in the basic auth settings/],
];

describe('npm run demo against a correlator with auth', () => {
  for (const [what, correlatorEnv, demoEnv, urlForm, error] of cases) {
    it(`${what}: ${error ? 'refused, without printing the password' : 'loads the demo circuits'}`, async t => {
      const app = await buildTestApp(t, correlatorEnv);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const url = {
        plain: `http://${base}`,
        'with credentials': `http://grafana:${PASSWORD}@${base}/`,
        'with a wrong password': `http://grafana:${PASSWORD}x@${base}`,
      }[urlForm];
      const printed: string[] = [];
      let failure: Error | null = null;
      try {
        await sendDemo(demoTarget(url, loadAuthConfig(demoEnv)), line => printed.push(line));
      } catch (e) {
        failure = e as Error;
      }
      const output = [...printed, failure?.message ?? ''].join('\n');
      assert.ok(!output.includes(PASSWORD), `the password is printed: ${output}`);
      if (error) {
        assert.ok(failure, 'the demo fails');
        assert.match(failure.message, error);
        return;
      }
      assert.equal(failure, null, `the demo fails: ${failure?.message}`);
      assert.equal(printed.length, 2, output);
      assert.ok(printed.every(line => line.includes(`http://${base}/api/circuits/`)), `links without credentials: ${output}`);
      const authorization = clientAuthorization(loadAuthConfig(correlatorEnv));
      const circuits = await app.inject({ url: '/api/circuits', headers: authorization ? { authorization } : {} });
      assert.equal(circuits.json<{ circuits: unknown[] }>().circuits.length, 2, circuits.body);
    });
  }
});
