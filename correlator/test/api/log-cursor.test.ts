// Paging logs by time bounds cannot pass a run of lines of one nanosecond longer than the page: the
// JSON batch API's lines often carry milliseconds only. A page's cursor names its last line's
// place in the list's total order, so paging by it lists every line once, whatever the run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { CorrelatorError } from '../../src/api/errors.js';
import { decodeLogCursor, encodeLogCursor } from '../../src/api/log-cursor.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const CIRCUIT = 'CURSOR-1';
const AT = Date.now() - 600_000;
const RUN = 23;

/** A run of RUN lines in one millisecond between lines of their own times, some of another circuit. */
async function linesWithARun(app: FastifyInstance): Promise<void> {
  const records: object[] = [];
  const at = (ms: number) => new Date(ms).toISOString();
  for (let i = 0; i < 6; i++)
    records.push({ timestamp: at(AT + i * 1000), severity: i % 2 ? 'ERROR' : 'INFO', message: `before ${i}`, circuit_id: CIRCUIT });
  for (let i = 0; i < RUN; i++)
    records.push({ timestamp: at(AT + 10_000), severity: i % 3 ? 'INFO' : 'ERROR', message: `run ${i}`, circuit_id: i % 5 === 4 ? 'OTHER' : CIRCUIT });
  for (let i = 0; i < 6; i++)
    records.push({ timestamp: at(AT + 20_000 + i * 1000), severity: 'WARN', message: `after ${i}`, circuit_id: CIRCUIT });
  await postAccepted(app, '/api/logs', { resource: { service: 'arda' }, records });
  // And lines of one stored microsecond told apart by their nanoseconds, two of them sharing one,
  // sent out of order so the listed order is the store's.
  const us = BigInt(AT + 15_000) * 1_000_000n + 123_000n;
  const nanos = [us + 400n, us + 100n, us + 250n, us + 250n, us + 900n, us + 100n];
  await postAccepted(app, '/v1/logs', {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'arda' } }] },
        scopeLogs: [
          {
            logRecords: nanos.map((ns, i) => ({
              timeUnixNano: String(ns),
              severityNumber: i % 2 ? 17 : 9,
              body: { stringValue: `nano ${i}` },
              attributes: [{ key: 'circuit_id', value: { stringValue: CIRCUIT } }],
            })),
          },
        ],
      },
    ],
  });
}

async function page(app: FastifyInstance, url: string): Promise<LogListResponse> {
  const res = await app.inject(url);
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json<LogListResponse>();
}

/** Every page by cursor, from the first; each cut page must carry a cursor, the last none. */
async function pagedByCursor(app: FastifyInstance, url: string, from?: string): Promise<string[]> {
  const ids: string[] = [];
  let next = from;
  for (let n = 0; n < 200; n++) {
    const { logs, truncated, nextCursor } = await page(app, next ? `${url}&cursor=${next}` : url);
    ids.push(...logs.map(l => l.id));
    assert.equal(nextCursor !== undefined, truncated, `${url}: a cursor exactly when truncated`);
    if (!nextCursor) return ids;
    next = nextCursor;
  }
  assert.fail(`${url}: no last page in 200`);
}

describe('log paging by cursor', () => {
  it('lists every line once through a run of one time longer than the page, on both routes, both ways, with filters', async t => {
    const app = await buildTestApp(t);
    await linesWithARun(app);
    const filters = ['', '&min_severity=error', '&search=run', `&from=${AT + 3000}&to=${AT + 21_000}`];
    for (const route of [`/api/logs?circuit_id=${CIRCUIT}&`, `/api/circuits/${CIRCUIT}/logs?`, '/api/logs?service=arda&'])
      for (const direction of ['', '&direction=backward', '&direction=forward'])
        for (const filter of filters) {
          const query = `${direction}${filter}`;
          const whole = await page(app, `${route}limit=1000${query}`);
          assert.equal(whole.truncated, false);
          assert.equal(whole.nextCursor, undefined, 'no cursor on a page that holds all');
          assert.ok(whole.logs.some(l => (l.body as string).startsWith('run')), `${route}${query}: the run is listed`);
          if (!filter.includes('search'))
            assert.ok(whole.logs.filter(l => (l.body as string).startsWith('nano')).length >= 3, `${route}${query}: lines of one microsecond`);
          for (const limit of [1, 2, 3, 7, RUN - 1])
            assert.deepEqual(await pagedByCursor(app, `${route}limit=${limit}${query}`), whole.logs.map(l => l.id), `${route}limit=${limit}${query}`);
        }
  });

  it('keeps its place while newer and older lines arrive, and pages back the other way', async t => {
    const app = await buildTestApp(t);
    await linesWithARun(app);
    const url = `/api/logs?circuit_id=${CIRCUIT}`;
    const whole = (await page(app, `${url}&limit=1000`)).logs.map(l => l.id);
    const first = await page(app, `${url}&limit=9`);
    assert.ok(first.nextCursor);
    // Lines arriving between pages, newer than the first page and of the run's own millisecond.
    await postAccepted(app, '/api/logs', {
      resource: { service: 'arda' },
      records: [
        { timestamp: new Date(AT + 30_000).toISOString(), severity: 'INFO', message: 'newer', circuit_id: CIRCUIT },
        { timestamp: new Date(AT - 30_000).toISOString(), severity: 'INFO', message: 'older', circuit_id: CIRCUIT },
      ],
    });
    const rest = await pagedByCursor(app, `${url}&limit=4`, first.nextCursor);
    const older = (await page(app, `${url}&search=older`)).logs[0]!.id;
    assert.deepEqual([...first.logs.map(l => l.id), ...rest], [...whole, older], 'the newer line is before the cursor, the older one after it');
    // The same cursor forwards: the lines newer than the first page's last, oldest first.
    const back = await page(app, `${url}&direction=forward&limit=1000&cursor=${first.nextCursor}`);
    const newer = (await page(app, `${url}&search=newer`)).logs[0]!.id;
    assert.deepEqual(
      back.logs.map(l => l.id),
      [...first.logs.slice(0, -1).map(l => l.id).reverse(), newer],
    );
  });

  it('refuses a cursor it did not give with a 400 that names it, on both routes', async t => {
    const app = await buildTestApp(t);
    await linesWithARun(app);
    const hash = 'q1w2e3r4t5y6u7i8o9p0a1s2d3f=';
    const good = JSON.parse(Buffer.from(encodeLogCursor({ timeMs: 1, timeUnixNano: '1000000', dedupe: hash }), 'base64url').toString()) as unknown[];
    const of = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad: [string, RegExp][] = [
      ['not base64!', /base64url/],
      [Buffer.from('{"a":').toString('base64url'), /does not decode/],
      [Buffer.from([0xff, 0xfe, 0x5b]).toString('base64url'), /does not decode/],
      [of({ timeMs: 1 }), /does not decode/],
      [of(good.slice(0, 3)), /does not decode/],
      [of([2, ...good.slice(1)]), /version/],
      [of([1, '1', '1000000', hash]), /time is not a number/],
      [of([1, null, '1000000', hash]), /time is not a number/],
      [of([1, 1, 1000000, hash]), /nanoseconds/],
      [of([1, 1, '1'.repeat(21), hash]), /nanoseconds/],
      [of([1, 1, '', hash]), /nanoseconds/],
      [of([1, 1, '-5', hash]), /nanoseconds/],
      [of([1, 1, '1e30', hash]), /nanoseconds/],
      [of([1, 0, '1000000000', hash]), /disagree/],
      [of([1, 1e300, '1000000', hash]), /disagree/],
      [of([1, 1, '1000000', '']), /hash/],
      [of([1, 1, '1000000', 'x']), /hash/],
      [of([1, 1, '1000000', 'ü'.repeat(28)]), /hash/],
      [of([1, 1, '1000000', 'h'.repeat(129)]), /hash/],
    ];
    for (const [cursor, why] of bad) {
      assert.throws(() => decodeLogCursor('cursor', cursor), (e: unknown) => e instanceof CorrelatorError && e.statusCode === 400 && why.test(e.message), cursor);
      for (const route of ['/api/logs?', `/api/circuits/${CIRCUIT}/logs?`]) {
        const res = await app.inject(`${route}cursor=${encodeURIComponent(cursor)}`);
        assert.equal(res.statusCode, 400, `${route}${cursor}`);
        const { code, message } = res.json<{ code: string; message: string }>();
        assert.equal(code, 'CORR_ERR_BAD_CURSOR');
        assert.match(message, /^cursor "/);
        assert.match(message, why);
      }
    }
    // An empty or overlong one is the schema's to refuse, naming the parameter too.
    for (const cursor of ['', 'A'.repeat(513)]) {
      const res = await app.inject(`/api/logs?cursor=${cursor}`);
      assert.equal(res.statusCode, 400, cursor.slice(0, 10));
      assert.match(res.json<{ message: string }>().message, /cursor/);
    }
  });

  it('round-trips a position exactly', () => {
    for (const position of [
      { timeMs: 1_765_000_000_123.457, timeUnixNano: '1765000000123456789', dedupe: 'q1w2e3r4t5y6u7i8o9p0a1s2d3f=' },
      { timeMs: 0, timeUnixNano: '0', dedupe: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      // A row of older rounding: its time a fraction of a millisecond from its nanoseconds.
      { timeMs: 0.1 + 0.2, timeUnixNano: '123456', dedupe: '+/+/+/+/+/+/+/+/+/+/+/+/+/+/' },
    ])
      assert.deepEqual(decodeLogCursor('cursor', encodeLogCursor(position)), position);
  });
});
