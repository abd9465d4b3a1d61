// A log record's time sets its extent as a span's does (item-times.ts): a time of a clock not yet
// set, at or before 2000-01-01 to the microsecond, is unknown as OTLP's 0 is, so the record is dated
// by its observed time, else by its arrival. Each case goes through protobuf and OTLP/JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseLogsJson } from '../../src/otlp/json-normaliser.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { buildLogs, logsJson, logsProtobuf, setLogTimes } from '../fixtures/otel-sdk.js';

const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));
const NOW = Date.now();
const MS = 1_000_000n;
const at = (ms: number) => BigInt(NOW + ms) * MS;
const Y1971 = BigInt(Date.UTC(1971, 0, 1)) * MS;
const Y2000 = BigInt(Date.UTC(2000, 0, 1)) * MS;

interface Case {
  title: string;
  time: bigint;
  observed: bigint;
  /** What dates the record. */
  datedBy: 'time' | 'observed time' | 'arrival';
  warning?: RegExp;
}

const UNSET_CLOCK = /is not after 2000-01-01T00:00:00Z \(to the microsecond\), a clock not yet set: taken as unknown, the record is dated by its /;

const cases: Case[] = [
  { title: 'a time of now', time: at(-1000), observed: at(0), datedBy: 'time' },
  {
    title: 'a time of 1971',
    time: Y1971,
    observed: at(0),
    datedBy: 'observed time',
    warning: /^resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]: time_unix_nano 31536000000000000 \(1971-01-01T00:00:00\.000Z\) is not after 2000-01-01T00:00:00Z \(to the microsecond\), a clock not yet set: taken as unknown, the record is dated by its observed time$/,
  },
  { title: 'a time of 2000-01-01T00:00:00Z', time: Y2000, observed: at(0), datedBy: 'observed time', warning: UNSET_CLOCK },
  { title: 'a time 499 ns after 2000', time: Y2000 + 499n, observed: at(0), datedBy: 'observed time', warning: UNSET_CLOCK },
  // Read as two 32-bit halves: a time whose low half is 0 is not the unknown time 0.
  { title: 'a time of 1971 whose low 32 bits are 0', time: (Y1971 >> 32n) << 32n, observed: at(0), datedBy: 'observed time', warning: UNSET_CLOCK },
  // Older than retention, it is stored with the retention warning (time-warnings.ts), as before.
  { title: 'a time a microsecond after 2000', time: Y2000 + 1000n, observed: at(0), datedBy: 'time' },
  { title: 'a time of 1971 observed in 1971', time: Y1971, observed: Y1971 + 1000n * MS, datedBy: 'arrival', warning: /a clock not yet set: taken as unknown, the record is dated by its arrival$/ },
  { title: 'a time of 0 observed on 2000-01-01T00:00:00Z', time: 0n, observed: Y2000, datedBy: 'arrival' },
  { title: 'a time of 0 observed a microsecond after 2000', time: 0n, observed: Y2000 + 1000n, datedBy: 'observed time' },
];

describe('log times of a clock not yet set', () => {
  for (const c of cases) {
    it(`dates ${c.title} by its ${c.datedBy}`, async () => {
      const [record] = await buildLogs('arda', [{ body: 'circuit_id=CKT-LOG-TIMES up', atMs: NOW }]);
      setLogTimes(record!, c.time, c.observed);
      const json = normaliseLogsJson(logsJson([record!]));
      const forms = [
        ['protobuf', decodeLogsRequest(logsProtobuf([record!]), rules, NOW)],
        ['JSON', decodeLogsRequest(json.binary, rules, NOW, json.places)],
      ] as const;
      for (const [form, batch] of forms) {
        assert.equal(batch.rejected, 0, `${form}: ${batch.rejectionMessages.join('; ')}`);
        const [log] = batch.logs;
        const expected = c.datedBy === 'time' ? c.time : c.datedBy === 'observed time' ? c.observed : BigInt(NOW) * MS;
        assert.equal(log!.timeUnixNano, expected.toString(), form);
        assert.equal(log!.observedTimeUnixNano, c.observed.toString(), `${form}: kept as sent`);
        if (c.warning) {
          assert.equal(batch.warned, 1, form);
          assert.match(batch.warnings[0]!, c.warning, form);
        } else assert.deepEqual(batch.warnings, [], form);
      }
    });
  }
});
