import type { CorrelatorQuery } from '../types';
import { interpolateQuery } from './interpolate';

const upper = (text: string) => text.replace(/\$(\w+)/g, (_m, name: string) => name.toUpperCase());

describe('interpolateQuery', () => {
  it.each<[string, CorrelatorQuery, CorrelatorQuery]>([
    [
      'trace query text',
      { refId: 'A', queryType: 'circuitTrace', query: '$ckt' },
      { refId: 'A', queryType: 'circuitTrace', query: 'CKT' },
    ],
    [
      'every filter, trimmed',
      { refId: 'A', queryType: 'correlations', circuitId: ' $c ', service: '$s', method: 'm' },
      { refId: 'A', queryType: 'correlations', circuitId: 'C', service: 'S', method: 'm' },
    ],
    [
      'not the structural fields',
      { refId: '$r', queryType: 'mdsoErrors', format: 'counts', groupBy: 'product', product: '$p' },
      { refId: '$r', queryType: 'mdsoErrors', format: 'counts', groupBy: 'product', product: 'P' },
    ],
    ['numbers untouched', { refId: 'A', queryType: 'logs', limit: 5 }, { refId: 'A', queryType: 'logs', limit: 5 }],
  ])('%s', (_name, query, expected) => {
    expect(interpolateQuery(query, upper)).toEqual(expected);
  });
});
