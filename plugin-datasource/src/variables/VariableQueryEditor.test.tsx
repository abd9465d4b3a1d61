import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { CorrelatorDataSource } from '../datasource';
import type { CorrelatorVariableQuery } from '../types';
import { normalizeVariableQuery, VariableQueryEditor } from './VariableQueryEditor';

function renderEditor(query: CorrelatorVariableQuery) {
  const onChange = jest.fn();
  render(
    <VariableQueryEditor
      query={query}
      onChange={onChange}
      onRunQuery={jest.fn()}
      datasource={{} as CorrelatorDataSource}
    />
  );
  return onChange;
}

describe('VariableQueryEditor', () => {
  it('switches the kind of values', () => {
    const onChange = renderEditor({ refId: 'v', kind: 'circuits' });
    fireEvent.click(screen.getByLabelText('Defect codes'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'v', kind: 'defectCodes', filter: undefined });
  });

  it.each([
    ['circuits', true],
    ['states', false],
  ] as const)('shows the circuit filter for %s: %p', (kind, shown) => {
    renderEditor({ refId: 'v', kind });
    expect(screen.queryByLabelText('Circuit filter') !== null).toBe(shown);
  });
});

describe('normalizeVariableQuery', () => {
  it.each([
    ['services', { refId: 'variable', kind: 'services' }],
    ['nonsense', { refId: 'variable', kind: 'circuits' }],
    [undefined, { refId: 'variable', kind: 'circuits', filter: undefined }],
    [
      { refId: 'v', kind: 'states' as const },
      { refId: 'v', kind: 'states', filter: undefined },
    ],
  ])('%j → %j', (stored, expected) => {
    expect(normalizeVariableQuery(stored)).toEqual(expected);
  });
});
