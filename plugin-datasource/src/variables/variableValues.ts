import type { CircuitListResponse, ServiceGraph } from '@correlation-station/api-schema';
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
      const graph = await client.get<ServiceGraph>('/api/service-graph', { from: range.from, to: range.to });
      return uniqueSorted(graph.nodes.map((n) => n.id));
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
