import type { KeyValues } from '../otlp/decoded.js';

/**
 * Adds `from`'s key values to `into`. A circuit's summary names one value of each key while its
 * data may carry several (an activation makes more than one MDSO resource): of two, the least is
 * kept, so the summary is the same whatever order the data arrived in and whatever restarts
 * came between. The last one, kept before, changed with the order of arrival.
 */
export function keepLeastKeys(into: KeyValues, from: KeyValues): void {
  for (const k in from) {
    const key = k as keyof KeyValues;
    const v = from[key];
    if (v === undefined) continue;
    const held = into[key];
    if (held === undefined || v < held) into[key] = v;
  }
}
