// AUTH_MODE=basic and bearer through real HTTP: every data route answers 401 with a
// WWW-Authenticate challenge without the right credentials, /health and /ready stay open, and
// the right credentials pass, including from a real SDK exporter in another process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { listen } from '../helpers/app.js';
import { exportCircuit } from '../helpers/fixture-runner.js';
import { decodeRpcStatus, serviceTelemetry } from '../helpers/sdk-bodies.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

interface Mode {
  name: 'basic' | 'bearer';
  env: Record<string, string>;
  good: string;
  wrong: string[];
  challenge: RegExp;
}

const MODES: Mode[] = [
  {
    name: 'basic',
    // An AUTH_TOKEN left from bearer mode is set but not a credential of basic mode: its bearer
    // header must be refused like any other.
    env: { AUTH_MODE: 'basic', AUTH_USERNAME: 'grafana', AUTH_PASSWORD: 's3cret-pässword', AUTH_TOKEN: 'tok-left-from-bearer-mode' },
    good: basic('grafana', 's3cret-pässword'),
    wrong: [
      basic('grafana', 'wrong'),
      basic('someone', 's3cret-pässword'),
      'Bearer tok-left-from-bearer-mode',
      'Basic !!!not-base64',
      // Node's base64 decoder reads past what is not base64: the right credentials, with more.
      `${basic('grafana', 's3cret-pässword')} extra`,
      `${basic('grafana', 's3cret-pässword')}!`,
    ],
    challenge: /^Basic realm="[^"]+"/,
  },
  {
    name: 'bearer',
    env: { AUTH_MODE: 'bearer', AUTH_TOKEN: 'tok-0123456789abcdef' },
    good: 'Bearer tok-0123456789abcdef',
    wrong: ['Bearer tok-0123456789abcdeX', 'Bearer ', basic('grafana', 'tok-0123456789abcdef'), 'tok-0123456789abcdef'],
    challenge: /^Bearer realm="[^"]+"/,
  },
];

for (const mode of MODES) {
  describe(`AUTH_MODE=${mode.name}`, () => {
    it('refuses missing or wrong credentials with 401 and a challenge, keeps /health and /ready open, lets the right ones pass', async t => {
      const { url } = await listen(t, mode.env);
      const traces = await serviceTelemetry('beorn', Date.now() - 20_000, [
        { name: 'POST /x', startMs: 0, endMs: 5, kind: SpanKind.SERVER, attributes: { circuit_id: `auth-${mode.name}` } },
      ]);
      const attempts: Array<Record<string, string>> = [{}, ...mode.wrong.map(a => ({ authorization: a }))];

      for (const headers of attempts) {
        const label = headers.authorization ?? '(none)';
        for (const path of ['/api/circuits', '/api/correlations', '/api/info', `/api/circuits/auth-${mode.name}/trace`]) {
          const res = await fetch(url + path, { headers });
          const text = await res.text();
          assert.equal(res.status, 401, `${label} GET ${path}: ${text}`);
          assert.match(res.headers.get('www-authenticate') ?? '', mode.challenge, `${label} GET ${path}`);
          assert.ok(!text.includes(mode.good.split(' ')[1]!), 'the secret is not echoed');
        }
        const otlp = await fetch(`${url}/v1/traces`, { method: 'POST', body: traces.traces.protobuf, headers: { ...PROTOBUF, ...headers } });
        const otlpBody = new Uint8Array(await otlp.arrayBuffer());
        assert.equal(otlp.status, 401, `${label} POST /v1/traces`);
        assert.match(otlp.headers.get('www-authenticate') ?? '', mode.challenge);
        assert.match(otlp.headers.get('content-type') ?? '', /^application\/x-protobuf/, 'OTLP answers in the request encoding');
        assert.equal(decodeRpcStatus(otlpBody).code, 16, 'UNAUTHENTICATED');
      }

      // A probe may add a query (a cache-buster, a probe's own name): the path alone decides.
      for (const path of ['/health', '/ready', '/health?probe=kubelet', '/ready?x=1']) {
        const res = await fetch(url + path);
        assert.equal(res.status, 200, `${path} stays open`);
      }

      // Nothing was stored by the refused exports.
      const authorized = { authorization: mode.good };
      const none = await fetch(`${url}/api/circuits/auth-${mode.name}`, { headers: authorized });
      assert.equal(none.status, 404, await none.text());

      const ok = await fetch(`${url}/v1/traces`, { method: 'POST', body: traces.traces.protobuf, headers: { ...PROTOBUF, ...authorized } });
      assert.equal(ok.status, 200, await ok.text());
      const circuit = await fetch(`${url}/api/circuits/auth-${mode.name}`, { headers: authorized });
      assert.equal(circuit.status, 200, await circuit.text());
      const info = await fetch(`${url}/api/info`, { headers: authorized });
      assert.equal(((await info.json()) as { authMode: string }).authMode, mode.name);
      // The scheme is case-insensitive (RFC 9110).
      const [scheme, credentials] = mode.good.split(' ') as [string, string];
      for (const variant of [scheme.toLowerCase(), scheme.toUpperCase()]) {
        const res = await fetch(`${url}/api/info`, { headers: { authorization: `${variant} ${credentials}` } });
        assert.equal(res.status, 200, `scheme ${variant}`);
      }

      // A real exporter in another process configured with the credentials gets through.
      const exported = await exportCircuit({
        baseUrl: url,
        pathPrefix: '',
        encoding: 'protobuf',
        compression: 'gzip',
        circuitId: `auth-sdk-${mode.name}`,
        baseMs: Date.now() - 10_000,
        seed: `auth-${mode.name}`,
        headers: authorized,
        services: ['beorn'],
      });
      assert.deepEqual(exported.exports.failed, []);
      const stitched = await fetch(`${url}/api/circuits/auth-sdk-${mode.name}/trace`, { headers: authorized });
      assert.equal(stitched.status, 200);
      assert.equal(((await stitched.json()) as { spans: unknown[] }).spans.length, 2);
    });
  });
}

it('an SDK exporter without credentials is told 401 and stores nothing', async t => {
  const { url } = await listen(t, MODES[1]!.env);
  await assert.rejects(
    exportCircuit({
      baseUrl: url,
      pathPrefix: '',
      encoding: 'json',
      compression: 'none',
      circuitId: 'auth-sdk-none',
      baseMs: Date.now() - 10_000,
      seed: 'auth-none',
      services: ['arda'],
    }),
    /401|Unauthorized/i,
  );
  const res = await fetch(`${url}/api/circuits/auth-sdk-none`, { headers: { authorization: MODES[1]!.good } });
  assert.equal(res.status, 404);
});
