import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRfc3339, parseRfc3339Nanos } from '../../src/time/rfc3339.js';

describe('parseRfc3339', () => {
  const valid: [string, number][] = [
    ['2026-01-01T00:00:00Z', Date.UTC(2026, 0, 1)],
    ['2026-01-01T00:00:00.000Z', Date.UTC(2026, 0, 1)],
    ['2026-01-01t12:30:15.5z', Date.UTC(2026, 0, 1, 12, 30, 15, 500)],
    ['2026-01-01 12:30:15Z', Date.UTC(2026, 0, 1, 12, 30, 15)],
    ['2026-03-01T02:00:00+02:00', Date.UTC(2026, 2, 1, 0, 0, 0)],
    ['2026-02-28T23:30:00-01:15', Date.UTC(2026, 2, 1, 0, 45, 0)],
    ['2026-01-01T00:00:00.123456Z', Date.UTC(2026, 0, 1) + 123.456],
    ['2026-01-01T00:00:00.123456789Z', Date.UTC(2026, 0, 1) + 123.456],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    // A leap second is the last instant of its minute.
    ['2016-12-31T23:59:60Z', Date.UTC(2016, 11, 31, 23, 59, 59, 999) + 0.999],
    // Years 0-99 are those years, not 1900-1999 as Date.UTC takes them; year 0 is a leap year.
    ['0001-01-01T00:00:00Z', -62_135_596_800_000],
    ['0051-01-01T00:00:00Z', -60_557_760_000_000],
    ['0099-12-31T23:59:59Z', -59_011_459_201_000],
    ['0000-02-29T00:00:00Z', -62_162_121_600_000],
    ['0100-01-01T00:00:00Z', -59_011_459_200_000],
  ];
  for (const [text, ms] of valid) it(`reads ${text}`, () => assert.equal(parseRfc3339(text), ms));

  const invalid = [
    '1',
    '-5',
    'Dec 25',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '2026-01-01T00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-02-29T00:00:00Z',
    // 1900 was no leap year, but 0000 and 2000 were: only 0000 is read as itself (valid above).
    '1900-02-29T00:00:00Z',
    '0001-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:60:00Z',
    '2026-01-01T00:00:61Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00.Z',
    '2026-01-01T00:00:00Z ',
    'Thu, 01 Jan 2026 00:00:00 GMT',
  ];
  for (const text of invalid)
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseRfc3339(text), null));

  it('keeps every digit of the fraction in nanoseconds', () => {
    assert.equal(
      parseRfc3339Nanos('2026-12-04T23:05:03.123456789Z'),
      BigInt(Date.UTC(2026, 11, 4, 23, 5, 3)) * 1_000_000n + 123_456_789n,
    );
    assert.equal(
      parseRfc3339Nanos('2026-12-04T23:05:03.1+01:00'),
      BigInt(Date.UTC(2026, 11, 4, 22, 5, 3)) * 1_000_000n + 100_000_000n,
    );
    assert.equal(parseRfc3339Nanos('Dec 25'), null);
  });
});
