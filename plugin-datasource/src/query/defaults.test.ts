import { QUERY_TYPES } from '../types';
import { defaultQuery, normalizeQuery } from './defaults';

describe('normalizeQuery', () => {
  it.each([
    ['a query without type or text', { refId: 'A' }, { refId: 'A', queryType: 'circuitSearch' }],
    [
      'a link-built query with only an id',
      { refId: 'A', query: 'CKT-1' },
      { refId: 'A', queryType: 'circuitTrace', query: 'CKT-1' },
    ],
    [
      'an unknown type',
      { refId: 'A', queryType: 'traceql', query: 'x' },
      { refId: 'A', queryType: 'circuitTrace', query: 'x' },
    ],
    [
      'MDSO errors without format',
      { refId: 'B', queryType: 'mdsoErrors' },
      { refId: 'B', queryType: 'mdsoErrors', format: 'records' },
    ],
    ['stored fields', { refId: 'A', queryType: 'logs', search: 'x' }, { refId: 'A', queryType: 'logs', search: 'x' }],
  ])('%s', (_name, raw, expected) => {
    expect(normalizeQuery(raw)).toEqual(expected);
  });
});

describe('defaultQuery', () => {
  it.each(QUERY_TYPES.map((t) => [t]))('%s keeps its type and refId', (type) => {
    expect(defaultQuery(type, 'Z')).toMatchObject({ refId: 'Z', queryType: type });
  });
});
