/**
 * Epoch milliseconds (float) from OTLP's decimal nanosecond string; anything but digits is NaN
 * rather than a silently wrong time. Whole milliseconds and the fraction are converted apart.
 */
export function nanosToMs(nanos: string): number {
  if (!/^\d+$/.test(nanos)) {
    return Number.NaN;
  }
  if (nanos.length <= 6) {
    return Number(nanos) / 1e6;
  }
  return Number(nanos.slice(0, -6)) + Number(nanos.slice(-6)) / 1e6;
}
