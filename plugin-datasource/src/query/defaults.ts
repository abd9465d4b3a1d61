import type { DataQuery } from '@grafana/schema';
import { QUERY_TYPES, type CorrelatorQuery, type QueryType } from '../types';

/** A fresh query of each type, as the editors start it. */
export function defaultQuery(queryType: QueryType, refId = 'A'): CorrelatorQuery {
  switch (queryType) {
    case 'circuitTrace':
      return { refId, queryType, query: '' };
    case 'mdsoErrors':
      return { refId, queryType, format: 'records' };
    case 'annotations':
      return { refId, queryType, source: 'mdsoFailures' };
    default:
      return { refId, queryType };
  }
}

function isQueryType(value: unknown): value is QueryType {
  return typeof value === 'string' && (QUERY_TYPES as readonly string[]).includes(value);
}

/**
 * Makes any stored or linked query a valid {@link CorrelatorQuery}: queries saved without a type,
 * or built by a link with only `query` set, get one and the type's required fields.
 */
export function normalizeQuery(input: DataQuery): CorrelatorQuery {
  const raw = input as DataQuery & { query?: unknown };
  const fallback: QueryType = typeof raw.query === 'string' && raw.query !== '' ? 'circuitTrace' : 'circuitSearch';
  const queryType = isQueryType(raw.queryType) ? raw.queryType : fallback;
  // Defaults first so stored fields win; the spread keeps fields this version does not know.
  return { ...defaultQuery(queryType, raw.refId), ...raw, queryType } as CorrelatorQuery;
}
