import { nanosToMs } from './time';

describe('nanosToMs', () => {
  it.each([
    ['1700000000123456789', 1700000000123.4568],
    ['1700000000000000000', 1700000000000],
    ['999', 0.000999],
    ['0', 0],
  ])('%s ns → %d ms', (nanos, ms) => {
    expect(nanosToMs(nanos)).toBeCloseTo(ms, 3);
  });

  it.each(['', '-5', '1.5e9', 'abc'])('returns NaN for %p', (bad) => {
    expect(nanosToMs(bad)).toBeNaN();
  });
});
