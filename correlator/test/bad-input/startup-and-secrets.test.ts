// Bad settings stop the real entry point with exit code 2 and a message naming the setting, and
// secrets never reach the process output: not at start-up, not when requests carry them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { SIMULATOR_ENTRY, startServer, startupOutcome } from '../helpers/child-server.js';
import { cleanupStack, tempDir } from '../helpers/cleanup.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';
import { RawConnection } from '../helpers/raw-http.js';

/** A file in the temporary directory holding `text`, made when the cases are listed. */
function fileHolding(name: string, text: string): string {
  const path = join(tmpdir(), name);
  writeFileSync(path, text);
  return path;
}

describe('start-up settings', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['MAX_BODY_BYTES', { MAX_BODY_BYTES: 'lots' }],
    ['AUTH_MODE', { AUTH_MODE: 'kerberos' }],
    ['AUTH_MODE', { AUTH_MODE: 'basic', AUTH_USERNAME: 'grafana' }],
    ['HOST', { HOST: 'not a host' }],
    ['DATA_DIR', { DATA_DIR: fileURLToPath(import.meta.url) }],
    ['CORR_WINDOW_SECONDS', { CORR_WINDOW_SECONDS: '0x10' }],
    // Found unusable by a plugin while starting, after loadConfig accepted it.
    [
      'MDSO_CA_FILE',
      { MDSO_URL: 'http://127.0.0.1:9', MDSO_USER: 'u', MDSO_PASS: 'p', MDSO_CA_FILE: join(tmpdir(), 'correlator-no-such-ca.pem') },
    ],
    // A file TLS cannot use: refused at start-up, not at every poll.
    ['MDSO_CA_FILE', { MDSO_URL: 'http://127.0.0.1:9', MDSO_USER: 'u', MDSO_PASS: 'p', MDSO_CA_FILE: fileHolding('correlator-not-a-ca.pem', 'not a certificate\n') }],
    [
      'MDSO_CA_FILE',
      {
        MDSO_URL: 'http://127.0.0.1:9',
        MDSO_USER: 'u',
        MDSO_PASS: 'p',
        MDSO_CA_FILE: fileHolding('correlator-broken-ca.pem', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n'),
      },
    ],
    ['DEFECT_CATALOG', { DEFECT_CATALOG: join(tmpdir(), 'correlator-no-such-catalogue.yaml') }],
  ];
  for (const [setting, env] of cases) {
    it(`${JSON.stringify(env)} → exit 2 naming ${setting}`, async t => {
      const cleanup = cleanupStack(fn => t.after(fn));
      const { code, output } = await startupOutcome({ DATA_DIR: await tempDir(cleanup), ...env });
      assert.equal(code, 2, output);
      assert.ok(output.includes(`correlator: Invalid setting ${setting}`), `the documented message naming ${setting}: ${output}`);
      assert.ok(!/^\s+at /m.test(output), `no stack trace: ${output}`);
    });
  }

  // A directory the store cannot use is refused as the setting it is: SQLite's own "unable to open
  // database file" with a stack trace named neither DATA_DIR nor the path.
  const unusableDirs: Array<[string, (dir: string) => Promise<{ env: Record<string, string>; as?: { uid: number; gid: number } }>, RegExp]> = [
    [
      'a directory this user may not write',
      async dir => {
        const data = join(dir, 'readonly');
        await mkdir(data);
        // Root may write anywhere, so the server runs as nobody when the tests run as root.
        if (process.getuid?.() === 0) return { env: { DATA_DIR: data }, as: { uid: 65534, gid: 65534 } };
        await chmod(data, 0o555);
        return { env: { DATA_DIR: data } };
      },
      /^correlator: Invalid setting DATA_DIR: ".*readonly" is not writable by this process \(user id \d+\)$/m,
    ],
    [
      'a missing directory under one this user may not write',
      async dir => {
        const parent = join(dir, 'closed');
        await mkdir(parent);
        if (process.getuid?.() === 0) return { env: { DATA_DIR: join(parent, 'data') }, as: { uid: 65534, gid: 65534 } };
        await chmod(parent, 0o555);
        return { env: { DATA_DIR: join(parent, 'data') } };
      },
      /^correlator: Invalid setting DATA_DIR: ".*closed\/data" does not exist and cannot be created: .*closed is not writable by this process/m,
    ],
    [
      'a directory whose database file is something else',
      async dir => {
        await mkdir(join(dir, 'correlator.db'));
        return { env: { DATA_DIR: dir } };
      },
      /^correlator: Invalid setting DATA_DIR: ".*" cannot hold the store \(SQLITE_CANTOPEN: unable to open database file\)$/m,
    ],
    // Found by a black-box review: a raw ENOENT stack from mkdir (exit 1), and under /proc a start
    // that never ended, spinning in Node's recursive mkdir.
    [
      'a symbolic link to a volume not mounted',
      async dir => {
        await symlink('/mnt/correlator-not-mounted/data', join(dir, 'dangling'));
        return { env: { DATA_DIR: join(dir, 'dangling') } };
      },
      /^correlator: Invalid setting DATA_DIR: ".*dangling" cannot be created: .*dangling is a symbolic link to \/mnt\/correlator-not-mounted\/data, which does not exist \(a volume not mounted\?\)$/m,
    ],
    [
      'a directory below a link to a volume not mounted',
      async dir => {
        await symlink('/mnt/correlator-not-mounted', join(dir, 'mnt'));
        return { env: { DATA_DIR: join(dir, 'mnt', 'corr', 'data') } };
      },
      /^correlator: Invalid setting DATA_DIR: ".*mnt\/corr\/data" cannot be created: .*mnt is a symbolic link to \/mnt\/correlator-not-mounted, which does not exist/m,
    ],
    [
      'a path under /proc, where no directory can be made',
      async () => ({ env: { DATA_DIR: '/proc/correlator-data' } }),
      /^correlator: Invalid setting DATA_DIR: "\/proc\/correlator-data" cannot hold the store \(ENOENT: /m,
    ],
  ];
  for (const [what, prepare, message] of unusableDirs) {
    it(`DATA_DIR: ${what} → exit 2 naming the setting and the path`, async t => {
      const cleanup = cleanupStack(fn => t.after(fn));
      const dir = await tempDir(cleanup);
      await chmod(dir, 0o755);
      const { env, as } = await prepare(dir);
      const { code, output } = await startupOutcome(env, undefined, as);
      assert.equal(code, 2, output);
      assert.match(output, message);
      assert.ok(!/^\s+at /m.test(output), `no stack trace: ${output}`);
    });
  }

  it('DATA_DIR held by a running correlator → exit 2 naming the setting, no stack trace', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await tempDir(cleanup);
    await startServer(cleanup, { DATA_DIR: dir });
    const { code, output } = await startupOutcome({ DATA_DIR: dir });
    assert.equal(code, 2, output);
    assert.match(output, /^correlator: Invalid setting DATA_DIR: .+ is in use by another correlator \(correlator\.lock stayed locked for 5 s\); stop it first$/m);
    assert.ok(!/^\s+at /m.test(output), `no stack trace: ${output}`);
  });

  // A port held by another listener, a HOST that is not this machine's or does not resolve: found
  // only when listening, after the store, its writer thread and the MDSO poller started. Refused
  // as the setting it is, and what started is closed: SQLite removes its WAL file on a clean close.
  const listenCases: Array<[string, string, (port: number) => Record<string, string>, RegExp]> = [
    [
      'a PORT another process listens on',
      'PORT',
      port => ({ PORT: String(port) }),
      /^correlator: Invalid setting PORT: (\d+) is in use by another process \(HOST 127\.0\.0\.1\)/m,
    ],
    [
      'a HOST that is not an address of this machine',
      'HOST',
      () => ({ HOST: '192.0.2.99' }),
      /^correlator: Invalid setting HOST: "192\.0\.2\.99" is not an address of this machine \(PORT 0\)/m,
    ],
    [
      'a HOST that does not resolve',
      'HOST',
      () => ({ HOST: 'no-such-host.invalid' }),
      /^correlator: Invalid setting HOST: "no-such-host\.invalid" does not resolve to an address \(PORT 0\)/m,
    ],
  ];
  for (const [what, setting, env, message] of listenCases) {
    it(`${what} → exit 2 naming ${setting}, what started closed`, async t => {
      const cleanup = cleanupStack(fn => t.after(fn));
      const held = createServer();
      await new Promise<void>(resolve => held.listen(0, '127.0.0.1', resolve));
      cleanup(() => new Promise<void>(resolve => held.close(() => resolve())));
      const port = (held.address() as AddressInfo).port;
      const dir = await tempDir(cleanup);
      const { code, output } = await startupOutcome({
        DATA_DIR: dir,
        // The poller starts before the server listens; nothing answers on port 9.
        MDSO_URL: 'http://127.0.0.1:9',
        MDSO_USER: 'u',
        MDSO_PASS: 'p',
        ...env(port),
      });
      assert.equal(code, 2, output);
      assert.match(output, message);
      if (setting === 'PORT') assert.equal(message.exec(output)?.[1], String(port), output);
      assert.ok(!/^\s+at /m.test(output), `no stack trace: ${output}`);
      assert.ok(!/"level":(50|60)/.test(output), `no error while closing: ${output}`);
      assert.ok(existsSync(join(dir, 'correlator.db')), 'the store had been opened');
      assert.ok(!existsSync(join(dir, 'correlator.db-wal')), `the store was closed cleanly: ${output}`);
    });
  }

  // The MDSO simulator refuses its settings the same way: one line naming the setting, no stack trace.
  const simulatorCases: Array<[string, Record<string, string>]> = [
    ['MDSO_SIM_PORT', { MDSO_SIM_PORT: 'eighty' }],
    ['MDSO_SIM_PORT', { MDSO_SIM_PORT: '70000' }],
    ['MDSO_SIM_FAILURE_RATE', { MDSO_SIM_FAILURE_RATE: '2' }],
  ];
  for (const [setting, env] of simulatorCases) {
    it(`simulator: ${JSON.stringify(env)} → exit 2 naming ${setting}`, async () => {
      const { code, output } = await startupOutcome(env, SIMULATOR_ENTRY);
      assert.equal(code, 2, output);
      assert.match(output, new RegExp(`^mdso-sim: Invalid setting ${setting}: `), output);
      assert.ok(!/\n\s+at /.test(output), `no stack trace: ${output}`);
    });
  }

  it('a DEFECT_CATALOG that does not parse → exit 2 naming it and where the problem is', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await tempDir(cleanup);
    const path = join(dir, 'rules.yaml');
    await writeFile(path, 'version: "x"\nrules: [\n');
    const { code, output } = await startupOutcome({ DATA_DIR: join(dir, 'data'), DEFECT_CATALOG: path });
    assert.equal(code, 2, output);
    assert.match(output, /correlator: Invalid setting DEFECT_CATALOG: ".*rules\.yaml" is not a usable defect catalogue: line \d+/);
  });

  it('a bearer token that is too short is refused without printing it', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const token = `tk${randomBytes(4).toString('hex')}`;
    const { code, output } = await startupOutcome({ DATA_DIR: await tempDir(cleanup), AUTH_MODE: 'bearer', AUTH_TOKEN: token });
    assert.equal(code, 2, output);
    assert.match(output, /AUTH_TOKEN/);
    assert.ok(!output.includes(token), 'the token is not printed');
  });

  // [setting, what, env around the secret]: refused, naming the setting, without printing the secret.
  const secretCases: Array<[string, string, (secret: string) => Record<string, string>]> = [
    ['TEMPO_OTLP_ENDPOINT', 'user:password in the URL', s => ({ TEMPO_OTLP_ENDPOINT: `http://tempo:${s}@127.0.0.1:9` })],
    ['TEMPO_HEADERS', 'CR LF in a header value', s => ({ TEMPO_HEADERS: JSON.stringify({ authorization: `Bearer ${s}\r\nx-injected: 1` }) })],
    ['TEMPO_HEADERS', 'text that is not JSON', s => ({ TEMPO_HEADERS: `{"authorization": ${s}}` })],
    ['MDSO_WEBHOOK_URL', 'a URL without a scheme', s => ({ MDSO_WEBHOOK_URL: `hooks.slack.com/services/T000/B000/${s}` })],
  ];
  for (const [setting, what, env] of secretCases) {
    it(`${setting} with ${what} → exit 2 naming it, without printing the secret`, async t => {
      const cleanup = cleanupStack(fn => t.after(fn));
      // Short, so a JSON parser message quoting the text around the error would hold all of it.
      const secret = `k${randomBytes(3).toString('hex')}`;
      const { code, output } = await startupOutcome({ DATA_DIR: await tempDir(cleanup), ...env(secret) });
      assert.equal(code, 2, output);
      assert.ok(output.includes(setting), `names ${setting}: ${output}`);
      assert.ok(!output.includes(secret), `the secret is printed: ${output}`);
    });
  }
});

describe('secrets in the process output', () => {
  it('passwords, tokens, Tempo headers and credentials sent by clients never appear in the log (LOG_LEVEL=trace)', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const tempoSecret = `tempo-${randomBytes(12).toString('hex')}`;
    const mdsoPassword = `mdso-${randomBytes(12).toString('hex')}`;
    const server = await startServer(cleanup, {
      DATA_DIR: await tempDir(cleanup),
      LOG_LEVEL: 'trace',
      AUTH_MODE: 'basic',
      AUTH_USERNAME: 'grafana',
      AUTH_PASSWORD: password,
      // Nothing listens there; the exporter only has to be configured.
      TEMPO_OTLP_ENDPOINT: 'http://127.0.0.1:9/v1/traces',
      TEMPO_HEADERS: JSON.stringify({ authorization: `Bearer ${tempoSecret}` }),
      MDSO_URL: 'http://127.0.0.1:9',
      MDSO_USER: 'admin',
      MDSO_PASS: mdsoPassword,
    });
    const good = `Basic ${Buffer.from(`grafana:${password}`).toString('base64')}`;
    const wrongButSecret = `Basic ${Buffer.from(`someone:${password}`).toString('base64')}`;
    const tel = await serviceTelemetry('beorn', Date.now() - 5_000, [
      { name: 'POST /x', startMs: 0, endMs: 1, kind: SpanKind.SERVER, attributes: { circuit_id: 'secrets-1' } },
    ]);
    for (const authorization of [good, wrongButSecret, `Bearer ${password}`]) {
      await (await fetch(`${server.url}/api/circuits`, { headers: { authorization } })).text();
      await (
        await fetch(`${server.url}/v1/traces`, {
          method: 'POST',
          body: tel.traces.protobuf,
          headers: { authorization, 'content-type': 'application/x-protobuf' },
        })
      ).arrayBuffer();
      // A request that fails inside, with the secret in the header, must not log it either.
      await (
        await fetch(`${server.url}/v1/traces`, { method: 'POST', body: '{', headers: { authorization, 'content-type': 'application/json' } })
      ).text();
    }
    // Malformed requests after a valid Authorization header: node's parser refuses them, and
    // fastify logs the refusal with the bytes it read (the header included) unless told not to.
    for (const bad of ['Bad Header: x', 'X-Y: a\u0001b', 'Content-Length: 5\r\nContent-Length: 6', `X-Big: ${'a'.repeat(20_000)}`]) {
      const conn = await RawConnection.open(server.url);
      await conn.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: ${good}\r\n${bad}\r\n\r\nabcde`);
      const res = await conn.response();
      assert.ok(res.status === 400 || res.status === 431, `a malformed request is refused (${res.status})`);
      await conn.closed;
    }
    assert.equal(await server.stop(), 0);
    const log = server.fullLog();
    assert.match(log, /client (error|header_overflow)/, 'the refused requests were logged');
    // Bytes are logged as arrays of numbers ({"type":"Buffer","data":[...]}): read them back too.
    const logged = [log, ...[...log.matchAll(/"data":\[([\d,]+)\]/g)].map(m => Buffer.from(m[1]!.split(',').map(Number)).toString('latin1'))].join('\n');
    // The log really is verbose: refusals and failures were written, so their silence on secrets means something.
    assert.match(log, /request refused|invalid credentials|"level":20/, 'debug lines were written');
    assert.ok(log.includes('"username":"grafana"'), 'the auth settings were logged, redacted');
    assert.match(log, /"msg":"configuration"/, 'the configuration was logged (redacted)');
    for (const [what, secret] of [
      ['AUTH_PASSWORD', password],
      ['basic credentials', good.slice(6)],
      ['TEMPO_HEADERS value', tempoSecret],
      ['MDSO_PASS', mdsoPassword],
    ] as const) {
      assert.ok(!logged.includes(secret), `${what} appears in the log`);
    }
  });

  it('webhook URLs and credentials inside URLs stay out of the log', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const hook = `H${randomBytes(12).toString('hex')}`;
    const userinfo = `p${randomBytes(12).toString('hex')}`;
    const mdsoQuery = `q${randomBytes(12).toString('hex')}`;
    const tempoQuery = `t${randomBytes(12).toString('hex')}`;
    const server = await startServer(cleanup, {
      DATA_DIR: await tempDir(cleanup),
      MDSO_URL: `http://admin:${userinfo}@127.0.0.1:9/?token=${mdsoQuery}`,
      // Nothing listens there; the exporter only has to be configured.
      TEMPO_OTLP_ENDPOINT: `http://127.0.0.1:9/otlp?api_key=${tempoQuery}`,
      MDSO_USER: 'admin',
      MDSO_PASS: 'x',
      MDSO_WEBHOOK_URL: `https://hooks.slack.com/services/T000/B000/${hook}`,
      // Credentials in TEMPO_OTLP_ENDPOINT are refused at start-up: fetch() cannot send them.
    });
    assert.equal(await server.stop(), 0);
    const log = server.fullLog();
    assert.ok(!log.includes(hook), 'MDSO_WEBHOOK_URL appears in the log');
    assert.ok(!log.includes(userinfo), 'a password inside MDSO_URL appears in the log');
    assert.match(log, /"msg":"MDSO poller started"/, 'the MDSO URL was logged (redacted)');
    assert.ok(log.includes('api_key=<hidden>'), 'the Tempo endpoint was logged (redacted)');
    assert.ok(!log.includes(mdsoQuery), 'a query parameter value of MDSO_URL appears in the log');
    assert.ok(!log.includes(tempoQuery), 'a query parameter value of TEMPO_OTLP_ENDPOINT appears in the log');
  });
});
