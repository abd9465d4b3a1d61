import type { Correlation } from '@correlation-station/api-schema';
import { firstOfLimit } from './list-limit.js';

/** The correlations a circuit's or a trace's detail lists; the correlations route has the rest. */
export const DETAIL_CORRELATIONS = 500;

/** The detail's correlations from a query for one more than it lists: a busy circuit has more than fit. */
export function detailCorrelations(fetched: Correlation[]): {
  correlations: Correlation[];
  correlationsTruncated: boolean;
} {
  const { items, truncated } = firstOfLimit(fetched, DETAIL_CORRELATIONS);
  return { correlations: items, correlationsTruncated: truncated };
}
