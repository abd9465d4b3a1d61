// A span's times set its extent (first/last datum, ranges, episodes, retention): a time no clock
// explains must neither be taken as sent nor pass in silence (item-times.ts). Each case goes
// through protobuf and OTLP/JSON, built by the SDK with the times a broken sender sends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { buildTraces, setSpanTimes, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));
const NOW = Date.now();
const MS = 1_000_000n;
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (ms: number) => BigInt(NOW + ms) * MS;
const MAX_U64 = 2n ** 64n - 1n;
const Y1971 = BigInt(Date.UTC(1971, 0, 1)) * MS;
const Y2000 = BigInt(Date.UTC(2000, 0, 1)) * MS;
const UNSET_CLOCK = /is not after 2000-01-01T00:00:00Z \(to the microsecond\), a clock not yet set when the span began, whatever its end_time_unix_nano /;

interface Case {
  title: string;
  start: bigint;
  end: bigint;
  /** The extent's end: the start when the end is taken as the start. */
  kept?: 'end' | 'start';
  warning?: RegExp;
  rejection?: RegExp;
}

const cases: Case[] = [
  { title: 'an ordinary span', start: at(-1000), end: at(-500), kept: 'end' },
  { title: 'an end 59 minutes ahead', start: at(0), end: at(59 * MIN), kept: 'end' },
  { title: 'a skewed sender 20 hours ahead, 30 minutes long', start: at(20 * HOUR), end: at(20 * HOUR + 30 * MIN), kept: 'end' },
  {
    title: 'an end before the start',
    start: at(-60_000),
    end: at(-120_000),
    kept: 'start',
    warning: /: span "s" in trace [0-9a-f]{32}: end_time_unix_nano \d{19} \(\S+Z\) is before its start_time_unix_nano \d{19} \(\S+Z\): taken as ending at its start$/,
  },
  { title: 'an end a nanosecond before the start', start: at(0) + 1n, end: at(0), kept: 'start', warning: /is before its start/ },
  { title: 'an end of 0', start: at(-30_000), end: 0n, kept: 'start', warning: /: end_time_unix_nano 0 is before its start_time_unix_nano/ },
  {
    title: 'an end of 2^64-1',
    start: at(-1000),
    end: MAX_U64,
    kept: 'start',
    warning: /end_time_unix_nano 18446744073709551615 \(2554-07-21T23:34:33\.709Z\) is over an hour past both its start_time_unix_nano \d+ \(\S+\) and this server's clock: unknown, taken as ending at its start$/,
  },
  { title: 'an end 61 minutes ahead', start: at(0), end: at(61 * MIN), kept: 'start', warning: /over an hour past both/ },
  { title: 'a skewed sender 20 hours ahead, 2 hours long', start: at(20 * HOUR), end: at(22 * HOUR), kept: 'start', warning: /over an hour past both/ },
  {
    title: 'a start 25 hours ahead',
    start: at(25 * HOUR),
    end: at(25 * HOUR + 5),
    rejection: /: span "s" in trace [0-9a-f]{32} has no start time: start_time_unix_nano \d{19} \(\S+Z\) is more than a day ahead of this server's clock, further than any clock is off \(check the sender's clock\)$/,
  },
  { title: 'a start in 2554', start: MAX_U64 - 1000n, end: MAX_U64, rejection: /start_time_unix_nano 18446744073709550615 \(2554-07-21T23:34:33\.709Z\) is more than a day ahead/ },
  // A clock not yet set (item-times.ts): refused whatever the end, known, unknown or before 2000.
  {
    title: 'a start in 1971 ending now',
    start: Y1971,
    end: at(0),
    rejection: /: span "s" in trace [0-9a-f]{32} has no start time: start_time_unix_nano 31536000000000000 \(1971-01-01T00:00:00\.000Z\) is not after 2000-01-01T00:00:00Z \(to the microsecond\), a clock not yet set when the span began, whatever its end_time_unix_nano \d{19} \(\S+Z\) \(check the sender's clock\)$/,
  },
  // Judged unknown first, the end was taken as the start: a 0 ms span of 1971 was stored.
  { title: 'a start in 1971 ending 3 hours ahead', start: Y1971, end: at(3 * HOUR), rejection: UNSET_CLOCK },
  { title: 'a start in 1971 ending in 2554', start: Y1971, end: MAX_U64, rejection: /whatever its end_time_unix_nano 18446744073709551615 \(2554-07-21T23:34:33\.709Z\) \(check/ },
  { title: 'a start in 1971 with an end of 0', start: Y1971, end: 0n, rejection: /a clock not yet set when the span began, whatever its end_time_unix_nano 0 \(check/ },
  // All before 2000, it still dated a trace of current spans from then.
  { title: 'a span of 1971, start and end', start: Y1971, end: Y1971 + 1000n * MS, rejection: UNSET_CLOCK },
  { title: 'a span of 1999, start and end', start: BigInt(Date.UTC(1999, 0, 1)) * MS, end: BigInt(Date.UTC(1999, 0, 2)) * MS, rejection: UNSET_CLOCK },
  // A start of uptime (an hour here) on a host whose end is read from a set clock.
  { title: 'a start an hour after 1970 ending now', start: 3_600_000n * MS, end: at(0), rejection: UNSET_CLOCK },
  { title: 'a start a microsecond before 2000 ending on it', start: Y2000 - 1000n, end: Y2000, rejection: UNSET_CLOCK },
  // A reset clock chip's value: a span of 26 years, and a bridge of as many to its circuit's others.
  {
    title: 'a start of 2000-01-01T00:00:00Z ending now',
    start: Y2000,
    end: at(0),
    rejection: /start_time_unix_nano 946684800000000000 \(2000-01-01T00:00:00\.000Z\) is not after 2000-01-01T00:00:00Z \(to the microsecond\), a clock not yet set/,
  },
  // The correlator keeps microseconds: under half of one after 2000 reads as 2000.
  { title: 'a start 499 ns after 2000 ending now', start: Y2000 + 499n, end: at(0), rejection: UNSET_CLOCK },
  // From a microsecond after it on: a span of a resource created long ago that failed now (failure-spans.ts).
  { title: 'a start a microsecond after 2000 ending now', start: Y2000 + 1000n, end: at(0), kept: 'end' },
  { title: 'a start a microsecond after 2000 ending 3 hours ahead', start: Y2000 + 1000n, end: at(3 * HOUR), kept: 'start', warning: /over an hour past both/ },
  {
    title: 'a start of 1 ns',
    start: 1n,
    end: at(0),
    rejection: /has no start time: start_time_unix_nano is 1, under a microsecond after 1970-01-01T00:00:00Z, which reads as 0 \(unset\)$/,
  },
];

describe('span times the decoder cannot take as sent', () => {
  for (const c of cases) {
    it(`${c.rejection ? 'rejects' : c.warning ? 'warns of' : 'takes'} ${c.title}`, async () => {
      const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 's', startMs: NOW, endMs: NOW + 1 }] }]);
      setSpanTimes(t!.spans[0]!, c.start, c.end);
      const json = normaliseTraceJson(tracesJson(t!.spans));
      const forms = [
        ['protobuf', decodeTraceRequest(tracesProtobuf(t!.spans), rules, NOW)],
        ['JSON', decodeTraceRequest(json.binary, rules, NOW, json.places)],
      ] as const;
      for (const [form, batch] of forms) {
        if (c.rejection) {
          assert.equal(batch.spans.length, 0, form);
          assert.equal(batch.rejected, 1, form);
          assert.match(batch.rejectionMessages[0]!, c.rejection, form);
          continue;
        }
        assert.equal(batch.rejected, 0, `${form}: ${batch.rejectionMessages.join('; ')}`);
        const [span] = batch.spans;
        const startMs = Number(c.start) / 1e6;
        assert.ok(Math.abs(span!.startMs - startMs) < 0.001, form);
        const endMs = c.kept === 'end' ? Number(c.end) / 1e6 : span!.startMs;
        assert.ok(Math.abs(span!.endMs - endMs) < 0.001, `${form}: extent end ${span!.endMs}, expected ${endMs}`);
        if (c.warning) {
          assert.equal(batch.warned, 1, form);
          assert.match(batch.warnings[0]!, /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: /, form);
          assert.match(batch.warnings[0]!, c.warning, form);
        } else assert.deepEqual(batch.warnings, [], form);
        // What every view shows: the end the extent has.
        const full = readFullSpan(span!.bytes);
        assert.equal(full.startTimeUnixNano, c.start.toString(), form);
        assert.equal(full.endTimeUnixNano, (c.kept === 'end' ? c.end : c.start).toString(), form);
      }
    });
  }
});
