// The business keys a bridge span carries from its two traces, in one place for the store that
// encodes the span and the writer that decides whether a key a trace gained changes it. Apart
// from bridge-span.ts so the writer thread does not load the encoder.
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { forEachKeyValue, type TraceKeyValues } from '../store/trace-key-values.js';

/** Every value of each key, sorted, each once. */
export type BridgeKeyValues = Partial<Record<BusinessKeyName, string[]>>;

/**
 * Every value of each key either trace names, sorted: which of a trace's values arrived first is
 * no property of the trace, so a span made from the first alone changed with arrival order.
 * `null` when neither trace is known.
 */
export function bridgeTraceKeys(parent: TraceKeyValues | null, child: TraceKeyValues | null): BridgeKeyValues | null {
  if (!parent && !child) return null;
  const sets = new Map<BusinessKeyName, Set<string>>();
  const add = (key: string, value: string) => {
    if (!value) return;
    let set = sets.get(key as BusinessKeyName);
    if (!set) sets.set(key as BusinessKeyName, (set = new Set()));
    set.add(value);
  };
  for (const t of [parent, child]) if (t) forEachKeyValue(t, add);
  const out: BridgeKeyValues = {};
  for (const [key, set] of [...sets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[key] = [...set].sort();
  return out;
}
