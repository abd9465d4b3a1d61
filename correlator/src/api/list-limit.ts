/**
 * A list from a query for one more than its limit: the first `limit`, and whether there were more.
 * A list cut without saying so reads as all there is.
 */
export function firstOfLimit<T>(fetched: T[], limit: number): { items: T[]; truncated: boolean } {
  return fetched.length > limit ? { items: fetched.slice(0, limit), truncated: true } : { items: fetched, truncated: false };
}
