import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HOURS_PER_TRACE, SERVICE_HOUR_MS, ServiceHourSet, hourOf } from '../../src/store/service-hours.js';

const H = SERVICE_HOUR_MS;
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

describe('ServiceHourSet', () => {
  const cases: { name: string; traces: [number, number, string][]; pairs: [number, string][] }[] = [
    { name: 'a trace within an hour marks it', traces: [[T0 + 5, T0 + 900, '["beorn"]']], pairs: [[T0, 'beorn']] },
    {
      name: 'a trace across an hour boundary marks both hours',
      traces: [[T0 + H - 10, T0 + H + 10, '["arda","mdso"]']],
      pairs: [
        [T0, 'arda'],
        [T0, 'mdso'],
        [T0 + H, 'arda'],
        [T0 + H, 'mdso'],
      ],
    },
    {
      name: 'a trace ending on the hour marks the hour it ends in',
      traces: [[T0 + H - 1, T0 + 2 * H, '["arda"]']],
      pairs: [
        [T0, 'arda'],
        [T0 + H, 'arda'],
        [T0 + 2 * H, 'arda'],
      ],
    },
    {
      name: 'a service named by several arrays is one pair',
      traces: [
        [T0 + 1, T0 + 2, '["beorn"]'],
        [T0 + 3, T0 + 4, '["arda","beorn"]'],
        [T0 + 5, T0 + 6, '["beorn"]'],
      ],
      pairs: [
        [T0, 'beorn'],
        [T0, 'arda'],
      ],
    },
    { name: 'a trace of no service marks nothing', traces: [[T0, T0, '[]']], pairs: [] },
    {
      name: `a trace of ${MAX_HOURS_PER_TRACE - 1} hours marks every hour`,
      traces: [[T0, T0 + (MAX_HOURS_PER_TRACE - 1) * H, '["long"]']],
      pairs: Array.from({ length: MAX_HOURS_PER_TRACE }, (_, i) => [T0 + i * H, 'long'] as [number, string]),
    },
    {
      name: `a trace of ${MAX_HOURS_PER_TRACE} hours or more marks its first and last only`,
      traces: [[Date.UTC(1971, 0, 1, 0, 30), T0 + 10, '["skewed"]']],
      pairs: [
        [Date.UTC(1971, 0, 1), 'skewed'],
        [T0, 'skewed'],
      ],
    },
    {
      name: 'a last time before the first marks the first hour only',
      traces: [[T0 + H + 1, T0 + 1, '["beorn"]']],
      pairs: [[T0 + H, 'beorn']],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const set = new ServiceHourSet();
      for (const [first, last, services] of c.traces) set.add(first, last, services);
      assert.deepEqual([...set.pairs()].map(([hour, service]) => [hour, service]), c.pairs);
    });

  it('gives each pair the last datum of the traces that mark it, which retention judges it by', () => {
    const set = new ServiceHourSet();
    set.add(T0 + 1, T0 + 2, '["beorn"]');
    set.add(T0 + 3, T0 + H + 4, '["arda","beorn"]');
    set.add(T0 + 5, T0 + 6, '["arda"]');
    // A last time before the first: the first is its last datum.
    set.add(T0 + 9, T0 + 7, '["mdso"]');
    assert.deepEqual(
      [...set.pairs()],
      [
        [T0, 'beorn', T0 + H + 4],
        [T0, 'arda', T0 + H + 4],
        [T0, 'mdso', T0 + 9],
        [T0 + H, 'arda', T0 + H + 4],
        [T0 + H, 'beorn', T0 + H + 4],
      ],
    );
  });

  it('hourOf floors to the hour, before 1970 too', () => {
    assert.deepEqual([hourOf(T0), hourOf(T0 + H - 1), hourOf(T0 + H), hourOf(-1)], [T0, T0, T0 + H, -H]);
  });
});
