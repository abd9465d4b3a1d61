import type { Correlation } from '@correlation-station/api-schema';

/** The correlations a circuit's or a trace's detail lists; the correlations route has the rest. */
export const DETAIL_CORRELATIONS = 500;

/**
 * The detail's correlations from a query for one more than it lists: a busy circuit has more than
 * fit, and a list cut without saying so reads as all there is.
 */
export function detailCorrelations(fetched: Correlation[]): {
  correlations: Correlation[];
  correlationsTruncated: boolean;
} {
  return fetched.length > DETAIL_CORRELATIONS
    ? { correlations: fetched.slice(0, DETAIL_CORRELATIONS), correlationsTruncated: true }
    : { correlations: fetched, correlationsTruncated: false };
}
