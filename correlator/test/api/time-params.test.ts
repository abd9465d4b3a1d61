import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExactRange, parseRange, parseTime, parseTimeNanos } from '../../src/api/time-params.js';
import { CorrelatorError } from '../../src/api/errors.js';
import { msFromParts } from '../../src/otlp/wire-reader.js';
import { msOfNanos } from '../../src/time/rfc3339.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

// 2026-11-21T12:00:00Z in every unit an operator or Grafana may send.
const MS = Date.UTC(2026, 10, 21, 12, 0, 0);

describe('time parameters', () => {
  const cases: [string, string, number][] = [
    ['epoch seconds, as date +%s prints them', '1795262400', MS],
    ['epoch milliseconds, as Grafana sends them', '1795262400000', MS],
    ['epoch milliseconds with a fraction of a second', '1795262400123', MS + 123],
    ['epoch nanoseconds, as OTLP and Loki write them, to the microsecond as span times are stored', '1795262400123456789', MS + 123.457],
    ['epoch nanoseconds below half a microsecond', '1795262400123456499', MS + 123.456],
    ['RFC 3339 with nanoseconds, to the microsecond', '2026-11-21T12:00:00.123456789Z', MS + 123.457],
    ['RFC 3339 with milliseconds', '2026-11-21T12:00:00.123Z', MS + 123],
    ['RFC 3339', '2026-11-21T12:00:00Z', MS],
    ['RFC 3339 with an offset', '2026-11-21T13:00:00+01:00', MS],
    ['zero, the start of the epoch in any unit', '0', 0],
    ['the largest 15-digit milliseconds', '999999999999999', 999_999_999_999_999],
  ];
  for (const [what, value, ms] of cases) {
    it(`reads ${what}`, () => assert.equal(parseTime('from', value), ms, value));
  }

  const refused: [string, string][] = [
    ['16 digits (microseconds or a typo: no unit is guessed)', '1795262400123456'],
    ['18 digits', '179526240012345678'],
    ['20 digits', '17952624001234567890'],
    ['a negative number', '-5'],
    ['a fraction of seconds', '1795262400.5'],
    ['a word', 'yesterday'],
  ];
  for (const [what, value] of refused) {
    it(`refuses ${what}`, () =>
      assert.throws(
        () => parseTime('to', value),
        (e: unknown) => e instanceof CorrelatorError && e.statusCode === 400 && e.message.startsWith(`to "${value}" is no time`),
        value,
      ));
  }

  const exact: [string, string, bigint][] = [
    ['epoch seconds', '1795262400', BigInt(MS) * 1_000_000n],
    ['epoch milliseconds', '1795262400123', BigInt(MS + 123) * 1_000_000n],
    ['epoch nanoseconds, every digit', '1795262400123456789', BigInt(MS) * 1_000_000n + 123_456_789n],
    ['RFC 3339 with nanoseconds, every digit', '2026-11-21T12:00:00.123456789Z', BigInt(MS) * 1_000_000n + 123_456_789n],
    ['RFC 3339 with an offset and microseconds', '2026-11-21T13:00:00.000001+01:00', BigInt(MS) * 1_000_000n + 1_000n],
  ];
  for (const [what, value, ns] of exact) {
    it(`reads ${what} to the nanosecond`, () => assert.equal(parseTimeNanos('from', value), ns, value));
  }

  it('keeps both bounds of a range to the nanosecond, and refuses from a nanosecond after to', () => {
    const at = BigInt(MS) * 1_000_000n + 123_456_100n;
    assert.deepEqual(parseExactRange(String(at), String(at + 300n)), {
      fromMs: MS + 123.456,
      fromNs: at,
      toMs: MS + 123.456,
      toNs: at + 300n,
    });
    // One stored microsecond, but the range is empty: refused, as the same range in seconds is.
    for (const parse of [parseExactRange, parseRange])
      assert.throws(
        () => parse(String(at + 1n), String(at)),
        (e: unknown) => e instanceof CorrelatorError && e.statusCode === 400 && e.message === `from (${at + 1n}) is after to (${at})`,
        parse.name,
      );
  });

  it('leaves an absent or empty value undefined', () => {
    assert.equal(parseTime('from', undefined), undefined, 'absent');
    assert.equal(parseTime('from', ''), undefined, 'empty');
  });

  it('compares a range across units', () => {
    assert.deepEqual(parseRange('1795262400', '1795262400000'), { fromMs: MS, toMs: MS });
    assert.throws(() => parseRange('1795262401', '1795262400000'), (e: unknown) => e instanceof CorrelatorError && e.statusCode === 400, 'from after to');
  });

  it("finds a span by a range of its own start in nanoseconds, in the list, the detail and the stitched view", async t => {
    const app = await buildTestApp(t);
    const startNs = BigInt(Date.now() - 60_000) * 1_000_000n + 456_789n;
    const ns = String(startNs);
    await postAccepted(app, '/v1/traces', {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'arda' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'activate',
                  startTimeUnixNano: ns,
                  endTimeUnixNano: String(startNs + 2_000_000n),
                  attributes: [{ key: 'circuit_id', value: { stringValue: 'NS1' } }],
                },
              ],
            },
          ],
        },
      ],
    });
    // From its start to its start, and the millisecond it starts in, in nanoseconds.
    const msStart = (startNs / 1_000_000n) * 1_000_000n;
    for (const [from, to] of [[ns, ns], [String(msStart), String(msStart + 999_999n)]] as const) {
      const list = (await app.inject(`/api/circuits?from=${from}&to=${to}`)).json<{ circuits: { circuitId: string }[] }>();
      assert.deepEqual(list.circuits.map(c => c.circuitId), ['NS1'], `list ${from}..${to}`);
      assert.equal((await app.inject(`/api/circuits/NS1?from=${from}&to=${to}`)).json<{ traces: unknown[] }>().traces.length, 1, `detail ${from}..${to}`);
      assert.equal((await app.inject(`/api/circuits/NS1/trace?from=${from}&to=${to}`)).json<{ spanCount: number }>().spanCount, 1, `stitched ${from}..${to}`);
    }
  });

  it('reads nanoseconds as span times are read from the wire, to the same microsecond', () => {
    for (const ns of [0n, 499n, 500n, 1_795_262_400_123_456_499n, 1_795_262_400_123_456_500n, 1_795_262_400_999_999_999n, 2n ** 63n - 1n]) {
      const lo = Number(ns & 0xffff_ffffn);
      const hi = Number(ns >> 32n);
      assert.equal(msOfNanos(ns), msFromParts(lo, hi), String(ns));
    }
  });

  it("finds a log by a range of its own time in nanoseconds, and leaves out the lines a second around it", async t => {
    const app = await buildTestApp(t);
    // 700 ns past the microsecond: stored logs were cut to it where queries rounded up.
    const at = BigInt(Date.now() - 60_000) * 1_000_000n + 123_700n;
    const ns = String(at);
    // Lines a second before and after it: the range must leave them out, not only find it.
    const record = (t: bigint, text: string) => ({ timeUnixNano: String(t), severityNumber: 17, body: { stringValue: text } });
    await postAccepted(app, '/v1/logs', {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'arda' } }] },
          scopeLogs: [
            {
              logRecords: [
                record(at - 1_000_000_000n, 'before circuit_id=NSL1'),
                record(at, 'failed circuit_id=NSL1'),
                record(at + 1_000_000_000n, 'after circuit_id=NSL1'),
              ],
            },
          ],
        },
      ],
    });
    const logs = (await app.inject(`/api/logs?from=${ns}&to=${ns}`)).json<{ logs: { body: string }[] }>().logs;
    assert.deepEqual(logs.map(l => l.body), ['failed circuit_id=NSL1'], 'the log in a range of its own nanoseconds, and no other');
    const all = (await app.inject('/api/logs')).json<{ logs: unknown[] }>().logs;
    assert.equal(all.length, 3, 'without a range, all three');
  });

  it('pages through a circuit’s logs by time, Loki’s way, without repeating or skipping a line of one microsecond', async t => {
    const app = await buildTestApp(t);
    // Three lines within one stored microsecond, and one a millisecond before them.
    const us = BigInt(Date.now() - 60_000) * 1_000_000n + 123_000n;
    const times = [us - 1_000_000n, us + 100n, us + 250n, us + 400n];
    await postAccepted(app, '/v1/logs', {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'arda' } }] },
          scopeLogs: [
            {
              // Sent out of order, so that the listed order is the store's and not the sender's.
              logRecords: [times[2]!, times[0]!, times[3]!, times[1]!].map(t => ({
                timeUnixNano: String(t),
                severityNumber: 9,
                body: { stringValue: `step at ${t} circuit_id=PAGE1` },
              })),
            },
          ],
        },
      ],
    });
    const newestFirst = [...times].reverse().map(String);
    for (const route of ['/api/logs?circuit_id=PAGE1', '/api/circuits/PAGE1/logs?']) {
      const listed = (await app.inject(route)).json<{ logs: { timeUnixNano: string }[] }>().logs;
      assert.deepEqual(listed.map(l => l.timeUnixNano), newestFirst, `${route}: newest first, to the nanosecond`);
      // A page of one line at a time, each next page ending a nanosecond before the last line seen.
      const paged: string[] = [];
      let to = '';
      for (let page = 0; page < 6; page++) {
        const res = await app.inject(`${route}&limit=1${to ? `&to=${to}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const [line] = res.json<{ logs: { timeUnixNano: string }[] }>().logs;
        if (!line) break;
        paged.push(line.timeUnixNano);
        to = String(BigInt(line.timeUnixNano) - 1n);
      }
      assert.deepEqual(paged, newestFirst, `${route}: paged by to = last - 1 ns`);
      // And forwards, from a nanosecond after a line, which leaves that line out.
      const after = (await app.inject(`${route}&from=${times[1]! + 1n}`)).json<{ logs: { timeUnixNano: string }[] }>().logs;
      assert.deepEqual(after.map(l => l.timeUnixNano), newestFirst.slice(0, 2), `${route}: from a nanosecond after the second line`);
      // Forwards, oldest first, each next page starting a nanosecond after the newest line seen.
      const forward: string[] = [];
      let from = String(times[0]!);
      for (let page = 0; page < 6; page++) {
        const res = await app.inject(`${route}&direction=forward&limit=1&from=${from}`);
        assert.equal(res.statusCode, 200, res.body);
        const [line] = res.json<{ logs: { timeUnixNano: string }[] }>().logs;
        if (!line) break;
        forward.push(line.timeUnixNano);
        from = String(BigInt(line.timeUnixNano) + 1n);
      }
      assert.deepEqual(forward, times.map(String), `${route}: paged forwards by from = last + 1 ns`);
      const refused = await app.inject(`${route}&direction=up`);
      assert.equal(refused.statusCode, 400, `${route}: direction=up`);
      assert.match(refused.json<{ message: string }>().message, /direction/);
    }
  });

  it('takes bounds past what 64-bit nanoseconds hold on the log routes, as on the others', async t => {
    const app = await buildTestApp(t);
    await postAccepted(app, '/api/logs', {
      resource: { service: 'arda' },
      records: [{ timestamp: new Date(Date.now() - 60_000).toISOString(), severity: 'ERROR', message: 'failed', circuit_id: 'FAR1' }],
    });
    // The far future in seconds, ms and RFC 3339, past 2262; and a year-1000 start, before 1677.
    for (const range of ['to=9999999999', 'to=999999999999999', 'to=9999-12-31T23:59:59Z', 'from=1000-01-01T00:00:00Z', 'from=0&to=9999999999'])
      for (const route of [`/api/logs?${range}`, `/api/circuits/FAR1/logs?${range}`, `/api/circuits?${range}`]) {
        const res = await app.inject(route);
        assert.equal(res.statusCode, 200, `${route}: ${res.body}`);
        const items = res.json<{ logs?: unknown[]; circuits?: unknown[] }>();
        assert.equal((items.logs ?? items.circuits)!.length, 1, route);
      }
  });

  it('finds a circuit by a range in epoch seconds', async t => {
    const app = await buildTestApp(t);
    await postAccepted(app, '/api/logs', {
      resource: { service: 'arda' },
      records: [{ timestamp: new Date(MS).toISOString(), severity: 'ERROR', message: 'activation failed', circuit_id: 'SEC1' }],
    });
    const seconds = MS / 1000;
    const listed = await app.inject(`/api/circuits?from=${seconds - 60}&to=${seconds + 60}`);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed.json<{ circuits: { circuitId: string }[] }>().circuits.map(c => c.circuitId),
      ['SEC1'],
      'the circuit of a range given in seconds',
    );
  });
});
