import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, redactConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.dataDir, './data');
    assert.equal(c.correlationWindowSeconds, 60);
    assert.equal(c.retentionDays, 7);
    assert.equal(c.tempo.endpoint, null);
    assert.equal(c.auth.mode, 'none');
    assert.equal(c.mdso.url, null);
    assert.equal(c.limits.maxBodyBytes, 64 * 1024 * 1024);
    assert.equal(c.limits.spanJsonCacheBytes, 64 * 1024 * 1024);
    assert.equal(c.limits.viewRenderWorkers, 1);
    assert.equal(c.limits.storeWriterThread, true);
    assert.equal(loadConfig({ STORE_WRITER_THREAD: 'false' }).limits.storeWriterThread, false);
    assert.equal(c.limits.storeSeenFilterBytes, 64 * 1024 * 1024);
    assert.equal(loadConfig({ STORE_SEEN_FILTER_BYTES: '0' }).limits.storeSeenFilterBytes, 0);
    assert.deepEqual(c.keys.bridgeKeys, ['circuit_id']);
    assert.equal(c.keys.aliases['mdso.circuit_id'], 'circuit_id');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.limits), 'Object.isFrozen(c) && Object.isFrozen(c.limits)');
  });

  const invalid: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'eighty' }, 'PORT', /expected an integer/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ CORR_WINDOW_SECONDS: '0' }, 'CORR_WINDOW_SECONDS', /between/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ TEMPO_OTLP_ENDPOINT: 'tempo:4318' }, 'TEMPO_OTLP_ENDPOINT', /http or https|valid URL/],
    [{ AUTH_MODE: 'basic' }, 'AUTH_MODE', /AUTH_USERNAME and AUTH_PASSWORD/],
    [{ AUTH_MODE: 'bearer', AUTH_TOKEN: 'short' }, 'AUTH_TOKEN', /at least 16/],
    [{ AUTH_MODE: 'magic' }, 'AUTH_MODE', /one of none, basic, bearer/],
    [{ KEY_ALIASES: '{"x":"nonsense"}' }, 'KEY_ALIASES', /not one of/],
    [{ KEY_ALIASES: '[1' }, 'KEY_ALIASES', /not valid JSON/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"("}]' }, 'LOG_KEY_PATTERNS', /invalid regex/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"cid=\\\\S+"}]' }, 'LOG_KEY_PATTERNS', /capture group/],
    [{ BRIDGE_KEYS: 'circuit_id,colour' }, 'BRIDGE_KEYS', /"colour"/],
    [{ STORE_BACKEND: 'postgres' }, 'STORE_BACKEND', /not available yet/],
    [{ MDSO_URL: 'https://mdso.example' }, 'MDSO_URL', /MDSO_USER and MDSO_PASS/],
    [{ TEMPO_HEADERS: '{"X-Scope-OrgID": 1}' }, 'TEMPO_HEADERS', /must be a string/],
    [{ SPAN_JSON_CACHE_BYTES: '-1' }, 'SPAN_JSON_CACHE_BYTES', /between 0 and/],
    [{ SPAN_JSON_CACHE_BYTES: '64MiB' }, 'SPAN_JSON_CACHE_BYTES', /expected an integer/],
    [{ VIEW_RENDER_WORKERS: '17' }, 'VIEW_RENDER_WORKERS', /between 0 and 16/],
    [{ STORE_WRITER_THREAD: 'sometimes' }, 'STORE_WRITER_THREAD', /true or false|boolean/],
    [{ STORE_SEEN_FILTER_BYTES: '2GiB' }, 'STORE_SEEN_FILTER_BYTES', /expected an integer/],
    [{ STORE_SEEN_FILTER_BYTES: String(2 ** 31) }, 'STORE_SEEN_FILTER_BYTES', /between 0 and/],
  ];
  for (const [env, setting, message] of invalid) {
    it(`refuses ${JSON.stringify(env)} naming ${setting}`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.setting === setting && message.test(e.message) && e.message.includes(setting),
      );
    });
  }

  it('accepts the original design names for basic auth', () => {
    const c = loadConfig({ ENABLE_BASIC_AUTH: 'true', BASIC_AUTH_USER: 'ops', BASIC_AUTH_PASS: 's3cret' });
    assert.equal(c.auth.mode, 'basic');
    assert.equal(c.auth.username, 'ops');
  });

  it('merges KEY_ALIASES over the defaults', () => {
    const c = loadConfig({ KEY_ALIASES: '{"svc.circuit":"circuit_id"}' });
    assert.equal(c.keys.aliases['svc.circuit'], 'circuit_id');
    assert.equal(c.keys.aliases['circuit.id'], 'circuit_id');
  });

  it('never shows secrets in the loggable copy', () => {
    const c = loadConfig({
      AUTH_MODE: 'bearer',
      AUTH_TOKEN: 'tok-0123456789abcdef',
      TEMPO_OTLP_ENDPOINT: 'http://tempo:4318',
      TEMPO_HEADERS: '{"Authorization":"Bearer xyz"}',
      MDSO_URL: 'https://mdso',
      MDSO_USER: 'u',
      MDSO_PASS: 'hunter2',
    });
    const text = JSON.stringify(redactConfig(c));
    for (const secret of ['tok-0123456789abcdef', 'Bearer xyz', 'hunter2']) assert.ok(!text.includes(secret), secret);
  });
});
