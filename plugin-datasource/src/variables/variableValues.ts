import type { CircuitListResponse, ServiceList } from '@correlation-station/api-schema';
import type { CorrelatorClient } from '../api/client';
import type { CorrelatorVariableQuery } from '../types';
import { mdsoVariableValues } from './mdsoVariableValues';

const VARIABLE_LIMIT = 1000;

/** Distinct, sorted values for a template variable. */
export async function variableValues(
  client: CorrelatorClient,
  query: CorrelatorVariableQuery,
  range: { from: number; to: number }
): Promise<string[]> {
  switch (query.kind) {
    case 'circuits': {
      const response = await client.get<CircuitListResponse>('/api/circuits', {
        query: query.filter,
        from: range.from,
        to: range.to,
        limit: VARIABLE_LIMIT,
      });
      return uniqueSorted(response.circuits.map((c) => c.circuitId));
    }
    case 'services': {
      // Not the service graph's nodes: a graph of a busy range is drawn from its recent traces only.
      const list = await client.get<ServiceList>('/api/services', { from: range.from, to: range.to });
      return uniqueSorted(list.services);
    }
    default: {
      const values = await mdsoVariableValues(client, query.kind, range);
      return query.kind === 'states' ? values : uniqueSorted(values);
    }
  }
}

export function uniqueSorted(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))].sort((a, b) => a.localeCompare(b));
}
