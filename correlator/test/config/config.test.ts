import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, loadSimulatorConfig, redactConfig } from '../../src/config/config.js';

// A path that surely exists and is a file, not a directory.
const THIS_FILE = fileURLToPath(import.meta.url);
// Short, so a JSON parser message quoting the text around an error would hold all of it.
const SECRET = 'zq7Kx2pW';

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
    assert.equal(c.limits.storeRebuildLostSpans, false);
    assert.equal(loadConfig({ STORE_REBUILD_LOST_SPANS: 'true' }).limits.storeRebuildLostSpans, true);
    assert.equal(c.limits.storeSeenFilterBytes, 64 * 1024 * 1024);
    assert.equal(loadConfig({ STORE_SEEN_FILTER_BYTES: '0' }).limits.storeSeenFilterBytes, 0);
    assert.deepEqual(c.keys.bridgeKeys, ['circuit_id']);
    assert.equal(c.keys.aliases['mdso.circuit_id'], 'circuit_id');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.limits), 'Object.isFrozen(c) && Object.isFrozen(c.limits)');
  });

  it('holds a bridge from Tempo for the window, and a poll interval more when the MDSO poller runs, unless told', () => {
    const mdso = { MDSO_URL: 'https://mdso.example', MDSO_USER: 'u', MDSO_PASS: 'p' };
    const cases: [Record<string, string>, number][] = [
      [{}, 60],
      [{ CORR_WINDOW_SECONDS: '10' }, 10],
      [{ CORR_WINDOW_SECONDS: '2.5' }, 2.5],
      [mdso, 120],
      [{ ...mdso, MDSO_POLL_INTERVAL_SECONDS: '300', CORR_WINDOW_SECONDS: '30' }, 330],
      [{ CORR_WINDOW_SECONDS: '86400' }, 3600],
      [{ BRIDGE_EXPORT_DELAY_SECONDS: '5' }, 5],
      [{ ...mdso, BRIDGE_EXPORT_DELAY_SECONDS: '0' }, 0],
    ];
    for (const [env, seconds] of cases) assert.equal(loadConfig(env).tempo.bridgeExportDelaySeconds, seconds, JSON.stringify(env));
  });

  const invalid: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'eighty' }, 'PORT', /expected an integer/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ CORR_WINDOW_SECONDS: '0' }, 'CORR_WINDOW_SECONDS', /between/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ TEMPO_OTLP_ENDPOINT: 'tempo:4318' }, 'TEMPO_OTLP_ENDPOINT', /http or https|valid URL/],
    [{ AUTH_MODE: 'basic' }, 'AUTH_MODE', /AUTH_USERNAME and AUTH_PASSWORD/],
    [{ AUTH_MODE: 'basic', AUTH_USERNAME: 'ops:eu', AUTH_PASSWORD: 's3cret' }, 'AUTH_USERNAME', /must not contain ":"/],
    [{ ENABLE_BASIC_AUTH: 'true', BASIC_AUTH_USER: 'ops:eu', BASIC_AUTH_PASS: 's3cret' }, 'BASIC_AUTH_USER', /must not contain ":"/],
    [{ AUTH_MODE: 'bearer', AUTH_TOKEN: 'short' }, 'AUTH_TOKEN', /at least 16/],
    [{ AUTH_MODE: 'magic' }, 'AUTH_MODE', /one of none, basic, bearer/],
    [{ ENABLE_BASIC_AUTH: 'true', BASIC_AUTH_USER: 'a', BASIC_AUTH_PASS: 'b', AUTH_MODE: 'none' }, 'AUTH_MODE', /is none, but ENABLE_BASIC_AUTH=true/],
    [{ ENABLE_BASIC_AUTH: 'true', AUTH_MODE: 'bearer', AUTH_TOKEN: 'tok-0123456789abcdef' }, 'AUTH_MODE', /is bearer, but ENABLE_BASIC_AUTH=true/],
    [{ KEY_ALIASES: '{"x":"nonsense"}' }, 'KEY_ALIASES', /not one of/],
    [{ KEY_ALIASES: '[1' }, 'KEY_ALIASES', /not valid JSON/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"("}]' }, 'LOG_KEY_PATTERNS', /invalid regex/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"cid=\\\\S+"}]' }, 'LOG_KEY_PATTERNS', /capture group/],
    [
      { LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"(ckt|CKT)#(\\\\S+)"}]' },
      'LOG_KEY_PATTERNS',
      /exactly one capture group, for the value, and has 2; make the others non-capturing/,
    ],
    // The linear-time engine cannot run these, so a log line could make them backtrack for minutes.
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"^(?=a)(a+)+$"}]' }, 'LOG_KEY_PATTERNS', /item 0: the pattern cannot be run in linear time/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"cid=(\\\\w{1,64})"}]' }, 'LOG_KEY_PATTERNS', /repeats bounded over 16/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"(c)\\\\1=(?:\\\\S+)"}]' }, 'LOG_KEY_PATTERNS', /backreferences/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"ckt (\\\\S+)","mention":"yes"}]' }, 'LOG_KEY_PATTERNS', /item 0: mention must be true or false/],
    [{ LOG_KEY_PATTERNS: '[{"key":"circuit_id","pattern":"ckt (\\\\S+)","mentions":true}]' }, 'LOG_KEY_PATTERNS', /item 0: unknown field "mentions" \(an item has key, pattern and mention\)/],
    [{ BRIDGE_KEYS: 'circuit_id,colour' }, 'BRIDGE_KEYS', /"colour"/],
    [{ BRIDGE_KEYS: ',' }, 'BRIDGE_KEYS', /"," names no key; .* or leave it unset for the default circuit_id$/],
    [{ CORRELATION_KEYS: ' , ' }, 'CORRELATION_KEYS', /names no key/],
    [
      { AUTH_MODE: 'basic', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 's3cret', BASIC_AUTH_USER: 'admin', BASIC_AUTH_PASS: 's3cret' },
      'AUTH_USERNAME',
      /and BASIC_AUTH_USER are both set, to different values; set one of them/,
    ],
    [{ AUTH_MODE: 'basic', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 's3cret', BASIC_AUTH_PASS: 'other' }, 'AUTH_PASSWORD', /and BASIC_AUTH_PASS are both set/],
    [{ ENABLE_BASIC_AUTH: 'true', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 's3cret', BASIC_AUTH_USER: 'admin' }, 'AUTH_USERNAME', /and BASIC_AUTH_USER are both set/],
    [{ STORE_BACKEND: 'postgres' }, 'STORE_BACKEND', /not available yet/],
    [{ MDSO_URL: 'https://mdso.example' }, 'MDSO_URL', /MDSO_USER and MDSO_PASS/],
    [{ MDSO_PRODUCTS: ',' }, 'MDSO_PRODUCTS', /names no product/],
    [{ MDSO_PRODUCTS: ' , ,, ' }, 'MDSO_PRODUCTS', /names no product/],
    [{ TEMPO_HEADERS: '{"X-Scope-OrgID": 1}' }, 'TEMPO_HEADERS', /must be a string/],
    [{ TEMPO_HEADERS: '{"Connection": "close"}' }, 'TEMPO_HEADERS', /"Connection" cannot be set/],
    [{ TEMPO_HEADERS: '{"expect": "100-continue"}' }, 'TEMPO_HEADERS', /"expect" cannot be set/],
    [{ TEMPO_HEADERS: '{"Content-Length": "3"}' }, 'TEMPO_HEADERS', /"Content-Length" cannot be set/],
    [{ TEMPO_HEADERS: '{"Content-Type": "application/json"}' }, 'TEMPO_HEADERS', /"Content-Type" cannot be set/],
    [{ TEMPO_HEADERS: '{"Transfer-Encoding": "chunked"}' }, 'TEMPO_HEADERS', /"Transfer-Encoding" cannot be set/],
    [{ TEMPO_OTLP_ENDPOINT: 'http://tempo:4318/#otlp' }, 'TEMPO_OTLP_ENDPOINT', /must not have a #fragment: the path is appended to it/],
    [{ TEMPO_OTLP_ENDPOINT: 'http://tempo:99999/v1?tenant=a&x#f' }, 'TEMPO_OTLP_ENDPOINT', /not a valid URL: "http:\/\/tempo:99999\/v1\?tenant=<hidden>&<hidden>#<hidden>"$/],
    [{ SPAN_JSON_CACHE_BYTES: '-1' }, 'SPAN_JSON_CACHE_BYTES', /between 0 and/],
    [{ SPAN_JSON_CACHE_BYTES: '64MiB' }, 'SPAN_JSON_CACHE_BYTES', /expected an integer/],
    [{ VIEW_RENDER_WORKERS: '17' }, 'VIEW_RENDER_WORKERS', /between 0 and 16/],
    [{ STORE_WRITER_THREAD: 'sometimes' }, 'STORE_WRITER_THREAD', /true or false|boolean/],
    [{ STORE_REBUILD_LOST_SPANS: 'please' }, 'STORE_REBUILD_LOST_SPANS', /true or false/],
    [{ STORE_SEEN_FILTER_BYTES: '2GiB' }, 'STORE_SEEN_FILTER_BYTES', /expected an integer/],
    [{ STORE_SEEN_FILTER_BYTES: String(2 ** 31) }, 'STORE_SEEN_FILTER_BYTES', /between 0 and/],
    [{ CORR_WINDOW_SECONDS: '0x10' }, 'CORR_WINDOW_SECONDS', /decimal number/],
    [{ CORR_WINDOW_SECONDS: '1e3' }, 'CORR_WINDOW_SECONDS', /decimal number/],
    [{ RETENTION_DAYS: '+5' }, 'RETENTION_DAYS', /decimal number/],
    [{ ISSUE_AUTO_RESOLVE_HOURS: '5.' }, 'ISSUE_AUTO_RESOLVE_HOURS', /decimal number/],
    [{ BRIDGE_EXPORT_DELAY_SECONDS: '0b11' }, 'BRIDGE_EXPORT_DELAY_SECONDS', /decimal number/],
    [{ BRIDGE_EXPORT_MAX_HOLD_SECONDS: '5m' }, 'BRIDGE_EXPORT_MAX_HOLD_SECONDS', /decimal number/],
    [{ BRIDGE_EXPORT_MAX_HOLD_SECONDS: '-1' }, 'BRIDGE_EXPORT_MAX_HOLD_SECONDS', /between 0 and 86400/],
    [{ BRIDGE_EXPORT_MAX_HOLD_SECONDS: '86401' }, 'BRIDGE_EXPORT_MAX_HOLD_SECONDS', /between 0 and 86400/],
    [{ MDSO_ERROR_RETENTION_DAYS: '0o7' }, 'MDSO_ERROR_RETENTION_DAYS', /decimal number/],
    [{ HOST: 'not a host' }, 'HOST', /IP address .*or a host name/],
    [{ HOST: 'http://0.0.0.0' }, 'HOST', /IP address .*or a host name/],
    [{ HOST: '[::1]' }, 'HOST', /without brackets/],
    [{ HOST: '999.1.1.1' }, 'HOST', /IP address .*or a host name/],
    [{ HOST: '-leading-dash' }, 'HOST', /IP address .*or a host name/],
    [{ DATA_DIR: THIS_FILE }, 'DATA_DIR', /not a directory/],
    [{ DATA_DIR: join(THIS_FILE, 'store') }, 'DATA_DIR', /part of the path is a file/],
  ];
  for (const [env, setting, message] of invalid) {
    it(`refuses ${JSON.stringify(env)} naming ${setting}`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.setting === setting && message.test(e.message) && e.message.includes(setting),
      );
    });
  }

  // [what, env, setting, message, secret]: refused, naming the setting, and never quoting the secret.
  const secretInvalid: [string, Record<string, string>, string, RegExp, string][] = [
    ['user:password in TEMPO_OTLP_ENDPOINT', { TEMPO_OTLP_ENDPOINT: `http://tempo:${SECRET}@tempo:4318` }, 'TEMPO_OTLP_ENDPOINT', /credentials.*TEMPO_HEADERS/, SECRET],
    ['a user name alone in TEMPO_OTLP_ENDPOINT', { TEMPO_OTLP_ENDPOINT: `https://${SECRET}@tempo:4318` }, 'TEMPO_OTLP_ENDPOINT', /credentials.*TEMPO_HEADERS/, SECRET],
    ['an invalid TEMPO_OTLP_ENDPOINT holding a password', { TEMPO_OTLP_ENDPOINT: `http://tempo:${SECRET}@tempo:99999` }, 'TEMPO_OTLP_ENDPOINT', /not a valid URL/, SECRET],
    ['an invalid MDSO_URL holding a password', { MDSO_URL: `https://admin:${SECRET}@mdso:99999`, MDSO_USER: 'u', MDSO_PASS: 'p' }, 'MDSO_URL', /not a valid URL/, SECRET],
    ['CR LF in a TEMPO_HEADERS value', { TEMPO_HEADERS: JSON.stringify({ Authorization: `Bearer ${SECRET}\r\nX-Injected: 1` }) }, 'TEMPO_HEADERS', /"Authorization" is not a valid HTTP header value/, SECRET],
    ['NUL in a TEMPO_HEADERS value', { TEMPO_HEADERS: JSON.stringify({ Authorization: `Bearer ${SECRET}\u0000` }) }, 'TEMPO_HEADERS', /"Authorization" is not a valid HTTP header value/, SECRET],
    ['a control character in a TEMPO_HEADERS value', { TEMPO_HEADERS: JSON.stringify({ Authorization: `Bearer ${SECRET}\u0007` }) }, 'TEMPO_HEADERS', /"Authorization" is not a valid HTTP header value/, SECRET],
    ['a character above U+00FF in a TEMPO_HEADERS value', { TEMPO_HEADERS: JSON.stringify({ Authorization: `Bearer ${SECRET}€` }) }, 'TEMPO_HEADERS', /"Authorization" is not a valid HTTP header value/, SECRET],
    ['a whole header line as a TEMPO_HEADERS name', { TEMPO_HEADERS: JSON.stringify({ [`Authorization: Bearer ${SECRET}`]: '' }) }, 'TEMPO_HEADERS', /header name number 1 is not a valid HTTP header name/, SECRET],
    ['a line break in a TEMPO_HEADERS name', { TEMPO_HEADERS: JSON.stringify({ 'X-Scope-OrgID': 'ops', [`X-Key\r\n${SECRET}`]: 'v' }) }, 'TEMPO_HEADERS', /header name number 2 is not a valid HTTP header name/, SECRET],
    ['unparsable TEMPO_HEADERS', { TEMPO_HEADERS: `{"Authorization": ${SECRET}}` }, 'TEMPO_HEADERS', /JSON object of header names to strings/, SECRET],
    ['MDSO_WEBHOOK_URL without a scheme', { MDSO_WEBHOOK_URL: `hooks.slack.com/services/T000/B000/${SECRET}` }, 'MDSO_WEBHOOK_URL', /not a valid URL/, SECRET],
    ['MDSO_WEBHOOK_URL with a bad port', { MDSO_WEBHOOK_URL: `https://hooks.slack.com:99999/services/T000/B000/${SECRET}` }, 'MDSO_WEBHOOK_URL', /not a valid URL/, SECRET],
    ['a token in the query of an invalid TEMPO_OTLP_ENDPOINT', { TEMPO_OTLP_ENDPOINT: `http://tempo:99999/?token=${SECRET}` }, 'TEMPO_OTLP_ENDPOINT', /not a valid URL: "http:\/\/tempo:99999\/\?token=<hidden>"/, SECRET],
    ['a token in the query of an invalid MDSO_URL', { MDSO_URL: `http://mdso:99999/?token=${SECRET}`, MDSO_USER: 'u', MDSO_PASS: 'p' }, 'MDSO_URL', /not a valid URL: "http:\/\/mdso:99999\/\?token=<hidden>"/, SECRET],
    ['a password in an invalid TEMPO_OTLP_ENDPOINT, quoted without it', { TEMPO_OTLP_ENDPOINT: `http://admin:${SECRET}@tempo:99999/` }, 'TEMPO_OTLP_ENDPOINT', /not a valid URL: "http:\/\/<hidden>@tempo:99999\/"/, SECRET],
    ['a password holding a slash in an invalid MDSO_URL', { MDSO_URL: `http://admin:a/${SECRET}@mdso:99999/`, MDSO_USER: 'u', MDSO_PASS: 'p' }, 'MDSO_URL', /not a valid URL: "http:\/\/<hidden>@mdso:99999\/"/, SECRET],
    // The fragment or query was cut before the user:password, quoting the password's start.
    ['a password holding a "#" in an invalid MDSO_URL', { MDSO_URL: `https://svc:${SECRET}#2026@mdso.example`, MDSO_USER: 'u', MDSO_PASS: 'p' }, 'MDSO_URL', /not a valid URL: "https:\/\/<hidden>@mdso\.example"$/, SECRET],
    ['a password holding a "?" in an invalid TEMPO_OTLP_ENDPOINT', { TEMPO_OTLP_ENDPOINT: `http://u:${SECRET}?PW@tempo:99999/v1` }, 'TEMPO_OTLP_ENDPOINT', /not a valid URL: "http:\/\/<hidden>@tempo:99999\/v1"$/, SECRET],
    ['a password holding "#" and "?" before a query', { MDSO_URL: `https://svc:${SECRET}?#x@mdso:99999/?token=t#f`, MDSO_USER: 'u', MDSO_PASS: 'p' }, 'MDSO_URL', /not a valid URL: "https:\/\/<hidden>@mdso:99999\/\?token=<hidden>#<hidden>"$/, SECRET],
    // Credentials with no AUTH_MODE served every route without them, silently.
    ['AUTH_TOKEN with AUTH_MODE unset', { AUTH_TOKEN: SECRET }, 'AUTH_MODE', /^Invalid setting AUTH_MODE: is not set, but AUTH_TOKEN is set: every route would be served without credentials/, SECRET],
    ['AUTH_TOKEN with AUTH_MODE empty', { AUTH_MODE: '', AUTH_TOKEN: SECRET }, 'AUTH_MODE', /is not set, but AUTH_TOKEN is set/, SECRET],
    ['a user and password with AUTH_MODE unset', { AUTH_USERNAME: 'ops', AUTH_PASSWORD: SECRET }, 'AUTH_MODE', /is not set, but AUTH_USERNAME, AUTH_PASSWORD are set/, SECRET],
    ['the legacy user and password with no mode', { BASIC_AUTH_USER: 'ops', BASIC_AUTH_PASS: SECRET }, 'AUTH_MODE', /is not set, but BASIC_AUTH_USER, BASIC_AUTH_PASS are set/, SECRET],
    // A client sends the header as bytes: such a token matched no request.
    ['a bearer token with a letter beyond ASCII', { AUTH_MODE: 'bearer', AUTH_TOKEN: `t\u00f6${SECRET}${SECRET}` }, 'AUTH_TOKEN', /must be visible ASCII characters/, SECRET],
    ['a bearer token with a space', { AUTH_MODE: 'bearer', AUTH_TOKEN: `${SECRET}${SECRET} x` }, 'AUTH_TOKEN', /must be visible ASCII characters/, SECRET],
    ['a token in the fragment of TEMPO_OTLP_ENDPOINT', { TEMPO_OTLP_ENDPOINT: `http://tempo:4318/#${SECRET}` }, 'TEMPO_OTLP_ENDPOINT', /must not have a #fragment/, SECRET],
    ['user:password in MDSO_WEBHOOK_URL', { MDSO_WEBHOOK_URL: `https://hook:${SECRET}@hooks.example/notify` }, 'MDSO_WEBHOOK_URL', /credentials/, SECRET],
  ];
  it('keeps credentials beside an AUTH_MODE=none or ENABLE_BASIC_AUTH=false given: a choice, not a mode that failed to be set', () => {
    assert.equal(loadConfig({ AUTH_MODE: 'none', AUTH_TOKEN: `${SECRET}${SECRET}` }).auth.mode, 'none');
    assert.equal(loadConfig({ ENABLE_BASIC_AUTH: 'false', BASIC_AUTH_USER: 'ops', BASIC_AUTH_PASS: SECRET }).auth.mode, 'none');
    // Both names of a credential, set differently, are unused too without basic auth (RV19).
    assert.equal(loadConfig({ AUTH_MODE: 'none', AUTH_USERNAME: 'a', BASIC_AUTH_USER: 'b' }).auth.mode, 'none');
    assert.equal(loadConfig({ AUTH_MODE: 'bearer', AUTH_TOKEN: `${SECRET}${SECRET}`, AUTH_PASSWORD: 'p1', BASIC_AUTH_PASS: 'p2' }).auth.mode, 'bearer');
  });
  for (const [what, env, setting, message, secret] of secretInvalid) {
    it(`refuses ${what} naming ${setting}, without quoting the secret`, () => {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ConfigError, `refused with a ConfigError: ${String(error)}`);
      assert.equal(error.setting, setting);
      assert.ok(!error.message.includes(secret), `the secret appears in: ${error.message}`);
      assert.ok(error.message.includes(setting), error.message);
      assert.match(error.message, message);
    });
  }

  it('refuses hex, exponent and non-host forms in the simulator settings too', () => {
    for (const [env, setting] of [
      [{ MDSO_SIM_FAILURE_RATE: '5e-1' }, 'MDSO_SIM_FAILURE_RATE'],
      [{ MDSO_SIM_HOST: 'not a host' }, 'MDSO_SIM_HOST'],
    ] as const) {
      assert.throws(
        () => loadSimulatorConfig(env),
        (e: unknown) => e instanceof ConfigError && e.setting === setting && e.message.includes(setting),
        JSON.stringify(env),
      );
    }
  });

  // Regression guard for the checks above: what is valid must still be accepted.
  it('still accepts IP addresses, host names, usable data directories, valid headers and plain decimals', () => {
    for (const host of ['127.0.0.1', '::', '::1', 'fe80::1%eth0', 'localhost', 'correlator.internal', 'tempo_1', 'host.']) {
      assert.equal(loadConfig({ HOST: host }).host, host);
    }
    for (const dir of [':memory:', dirname(THIS_FILE), join(dirname(THIS_FILE), 'not-created-yet', 'data')]) {
      assert.equal(loadConfig({ DATA_DIR: dir }).dataDir, dir);
    }
    const headers = { 'X-Scope-OrgID': 'ops', Authorization: 'Basic dTpw', 'X-Tabbed': 'a\tb', 'X-Latin1': 'café' };
    assert.deepEqual(loadConfig({ TEMPO_HEADERS: JSON.stringify(headers) }).tempo.headers, headers);
    assert.equal(loadConfig({ TEMPO_OTLP_ENDPOINT: 'https://tempo.example:4318/' }).tempo.endpoint, 'https://tempo.example:4318');
    // MDSO requests go through http.request, which sends user:password as basic credentials.
    assert.equal(loadConfig({ MDSO_URL: 'https://admin:pw@mdso', MDSO_USER: 'u', MDSO_PASS: 'p' }).mdso.url, 'https://admin:pw@mdso');
    const hook = 'https://hooks.slack.com/services/T000/B000/XXXX';
    assert.equal(loadConfig({ MDSO_WEBHOOK_URL: hook }).mdso.webhook.url, hook);
    const c = loadConfig({ RETENTION_DAYS: '0.5', CORR_WINDOW_SECONDS: '007', ISSUE_AUTO_RESOLVE_HOURS: '0.01' });
    assert.equal(c.retentionDays, 0.5);
    assert.equal(c.correlationWindowSeconds, 7);
    assert.equal(c.mdso.issueAutoResolveHours, 0.01);
    assert.equal(loadSimulatorConfig({ MDSO_SIM_FAILURE_RATE: '0.25' }).failureRate, 0.25);
  });

  it('accepts the original design names for basic auth', () => {
    const c = loadConfig({ ENABLE_BASIC_AUTH: 'true', BASIC_AUTH_USER: 'ops', BASIC_AUTH_PASS: 's3cret' });
    assert.equal(c.auth.mode, 'basic');
    assert.equal(c.auth.username, 'ops');
  });

  // [env, resulting mode]: ENABLE_BASIC_AUTH and AUTH_MODE that agree, or where one is off.
  const authCombinations: [Record<string, string>, string][] = [
    [{ ENABLE_BASIC_AUTH: 'true', AUTH_MODE: 'basic', BASIC_AUTH_USER: 'ops', BASIC_AUTH_PASS: 's3cret' }, 'basic'],
    [{ ENABLE_BASIC_AUTH: 'true', AUTH_MODE: 'BASIC', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 's3cret' }, 'basic'],
    [{ ENABLE_BASIC_AUTH: 'false', AUTH_MODE: 'bearer', AUTH_TOKEN: 'tok-0123456789abcdef' }, 'bearer'],
    [{ ENABLE_BASIC_AUTH: 'false', AUTH_MODE: 'basic', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 's3cret' }, 'basic'],
    [{ ENABLE_BASIC_AUTH: 'false', AUTH_MODE: 'none' }, 'none'],
    [{ ENABLE_BASIC_AUTH: 'false' }, 'none'],
  ];
  for (const [env, mode] of authCombinations) {
    it(`accepts ${JSON.stringify(env)} as auth mode ${mode}`, () => {
      assert.equal(loadConfig(env).auth.mode, mode);
    });
  }

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

  it('hides query values and user:password of configured URLs in the loggable copy, not in the URLs used', () => {
    const tempo = `http://127.0.0.1:14318/otlp?api_key=${SECRET}`;
    const mdso = `https://admin:${SECRET}x@mdso.example/?token=${SECRET}y`;
    const c = loadConfig({ TEMPO_OTLP_ENDPOINT: tempo, MDSO_URL: mdso, MDSO_USER: 'u', MDSO_PASS: 'p' });
    assert.equal(c.tempo.endpoint, tempo);
    assert.equal(c.mdso.url, mdso);
    const logged = redactConfig(c) as { tempo: { endpoint: string }; mdso: { url: string } };
    assert.equal(logged.tempo.endpoint, 'http://127.0.0.1:14318/otlp?api_key=<hidden>');
    assert.equal(logged.mdso.url, 'https://<hidden>@mdso.example/?token=<hidden>');
    assert.ok(!JSON.stringify(logged).includes(SECRET), 'a secret from a URL is in the loggable copy');
  });
});
