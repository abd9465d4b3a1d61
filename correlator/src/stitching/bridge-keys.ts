// The business keys a bridge span carries from its two traces, in one place for the store that
// encodes the span and the writer that decides whether a key a trace gained changes it. Apart
// from bridge-span.ts so the writer thread does not load the encoder.
import type { KeyValues } from '../otlp/decoded.js';

/** The parent's value where both traces name a key; `null` when neither trace is known. */
export function bridgeTraceKeys(parent: KeyValues | null, child: KeyValues | null): KeyValues | null {
  return parent || child ? { ...child, ...parent } : null;
}
