import type { CorrelatorQuery } from '../types';

/** Fields that select behaviour rather than carry user text; variables in them are not replaced. */
const STRUCTURAL_FIELDS = new Set(['refId', 'queryType', 'datasource', 'key', 'format', 'groupBy', 'source', 'hide']);

/** Replaces template variables in every user-text field of a query. */
export function interpolateQuery<Q extends CorrelatorQuery>(query: Q, replace: (text: string) => string): Q {
  const result: Record<string, unknown> = { ...query };
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string' && !STRUCTURAL_FIELDS.has(key)) {
      result[key] = replace(value).trim();
    }
  }
  return result as Q;
}
