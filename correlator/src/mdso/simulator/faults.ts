// Fault injection state. Faults touch the MDSO API surface only (/tron and /bpocore), never /__sim.

export interface Faults {
  /** added before every API answer */
  latencyMs: number;
  /** the next N API calls answer `errorStatus` */
  errorNext: number;
  /** every Kth API call answers `errorStatus` (0: off) */
  errorEvery: number;
  errorStatus: number;
  /** after N more API calls every call answers `errorStatus` until faults are changed (null: off) */
  failAfterCalls: number | null;
  /** every token request is refused with this status, 401 or 403 as for a locked account (0: off) */
  refuseTokens: number;
  /** after N more authenticated calls every issued token stops working (null: off); fires once */
  expireTokensAfterCalls: number | null;
  /** the next N successful API answers carry a cut-off JSON body */
  malformedJsonNext: number;
  /** list pages hold only the first half of their items, `total` unchanged */
  truncatePages: boolean;
  /** the list grows at the front while paged: each page repeats the previous page's last item */
  duplicateAcrossPages: boolean;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  errorNext: 0,
  errorEvery: 0,
  errorStatus: 503,
  failAfterCalls: null,
  refuseTokens: 0,
  expireTokensAfterCalls: null,
  malformedJsonNext: 0,
  truncatePages: false,
  duplicateAcrossPages: false,
});

/** Validates a partial update; returns a message naming the bad field, or null. */
export function validateFaultPatch(patch: unknown): string | null {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return 'body must be a JSON object';
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in NO_FAULTS)) return `unknown fault "${k}"; known: ${Object.keys(NO_FAULTS).join(', ')}`;
    const expected = typeof NO_FAULTS[k as keyof Faults];
    if (k === 'expireTokensAfterCalls' || k === 'failAfterCalls') {
      if (v !== null && !(Number.isInteger(v) && (v as number) >= 0)) return `${k} must be a non-negative integer or null`;
    } else if (expected === 'number') {
      if (!(Number.isInteger(v) && (v as number) >= 0)) return `${k} must be a non-negative integer`;
      if (k === 'errorStatus' && ((v as number) < 500 || (v as number) > 599)) return 'errorStatus must be a 5xx status';
      if (k === 'refuseTokens' && ![0, 401, 403].includes(v as number)) return 'refuseTokens must be 0 (off), 401 or 403';
    } else if (typeof v !== expected) {
      return `${k} must be a ${expected}`;
    }
  }
  return null;
}
