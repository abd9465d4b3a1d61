// A trace row's key values: its first value of each key (`keys`) and the further ones (`more_keys`,
// key, value pairs). Readers that want every value walk both the same way.
import type { KeyValues } from '../otlp/decoded.js';

export interface TraceKeyValues {
  keys: KeyValues;
  moreKeys: readonly string[];
}

/** A trace row's `keys` and `more_keys` columns as TraceKeyValues. */
export function traceKeyValuesOf(keys: string, moreKeys: string): TraceKeyValues {
  return { keys: JSON.parse(keys) as KeyValues, moreKeys: JSON.parse(moreKeys) as string[] };
}

/** Calls `fn` with each key value the trace names, first values before further ones. */
export function forEachKeyValue(t: TraceKeyValues, fn: (key: string, value: string) => void): void {
  for (const key in t.keys) {
    const value = t.keys[key as keyof KeyValues];
    if (value !== undefined) fn(key, value);
  }
  for (let i = 0; i + 1 < t.moreKeys.length; i += 2) fn(t.moreKeys[i]!, t.moreKeys[i + 1]!);
}
