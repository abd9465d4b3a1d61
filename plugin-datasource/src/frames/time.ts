/**
 * Epoch milliseconds (float) from OTLP's decimal nanosecond string. Splitting the string keeps
 * the millisecond part exact, which Number(nanos) / 1e6 would not for 19-digit values.
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
