import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { CorrelatorDataSource } from '../datasource';
import type { CorrelatorQuery } from '../types';
import { QueryEditor } from './QueryEditor';

function renderEditor(query: CorrelatorQuery) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  render(
    <QueryEditor query={query} onChange={onChange} onRunQuery={onRunQuery} datasource={{} as CorrelatorDataSource} />
  );
  return { onChange, onRunQuery };
}

describe('QueryEditor', () => {
  it.each<[CorrelatorQuery, string[]]>([
    [{ refId: 'A', queryType: 'circuitTrace', query: '' }, ['Circuit or trace id', 'Span limit']],
    [{ refId: 'A', queryType: 'circuitSearch' }, ['Circuit id', 'Service', 'Limit']],
    [{ refId: 'A', queryType: 'correlations' }, ['Circuit id', 'Trace id', 'Service', 'Method', 'Limit']],
    [{ refId: 'A', queryType: 'logs' }, ['Circuit id', 'Trace id', 'Service', 'Search', 'Min severity', 'Limit']],
    [{ refId: 'A', queryType: 'mdsoErrors', format: 'records' }, ['Product', 'Defect code', 'Circuit id', 'Limit']],
    [{ refId: 'A', queryType: 'mdsoErrors', format: 'counts' }, []],
    [{ refId: 'A', queryType: 'mdsoIssues' }, ['Product', 'Defect code', 'Limit']],
    [{ refId: 'A', queryType: 'serviceGraph' }, ['Circuit id']],
  ])('shows the fields of %j', (query, labels) => {
    renderEditor(query);
    const shown = screen.queryAllByRole('textbox').map((el) => el.getAttribute('aria-label'));
    expect(shown).toEqual(labels);
  });

  it('starts a fresh query of the new type, keeping refId and datasource', () => {
    const datasource = { type: 'seefa-correlation-datasource', uid: 'x' };
    const { onChange, onRunQuery } = renderEditor({ refId: 'B', queryType: 'logs', search: 'boom', datasource });
    fireEvent.click(screen.getByLabelText('MDSO errors'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'B', queryType: 'mdsoErrors', format: 'records', datasource });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('treats a stored query without type as a circuit search', () => {
    renderEditor({ refId: 'A' } as CorrelatorQuery);
    expect(screen.getByLabelText('Circuit search')).toBeChecked();
  });

  it('commits text on blur, once, and runs the query', () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A', queryType: 'circuitTrace', query: '' });
    const input = screen.getByLabelText('Circuit or trace id');
    fireEvent.change(input, { target: { value: '  CKT-1 ' } });
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.blur(input);
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'circuitTrace', query: 'CKT-1' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it("limits a circuit's trace to the time range with its switch, and runs the query", () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A', queryType: 'circuitTrace', query: 'CKT-1' });
    fireEvent.click(screen.getByLabelText('In time range'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'circuitTrace', query: 'CKT-1', inTimeRange: true });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('commits on Enter', () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'logs' });
    const input = screen.getByLabelText('Search');
    fireEvent.change(input, { target: { value: 'timeout' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'logs', search: 'timeout' });
  });

  it.each([
    ['12', 12],
    ['0', undefined],
    ['abc', undefined],
  ])('limit %p becomes %p', (text, limit) => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'circuitSearch', limit: 50 });
    const input = screen.getByLabelText('Limit');
    fireEvent.change(input, { target: { value: text } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'circuitSearch', limit });
  });

  it('flags a malformed trace id but accepts variables', () => {
    renderEditor({ refId: 'A', queryType: 'logs', traceId: 'xyz' });
    expect(screen.getByText('A trace id is 32 hex characters')).toBeInTheDocument();
  });

  it('clears the status filter with Any', () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'circuitSearch', status: 'error' });
    fireEvent.click(screen.getByLabelText('Any'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'circuitSearch', status: undefined });
  });

  it('chooses the counts grouping of MDSO errors', () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'mdsoErrors', format: 'counts' });
    fireEvent.click(screen.getByLabelText('Defect code'));
    expect(onChange).toHaveBeenCalledWith({
      refId: 'A',
      queryType: 'mdsoErrors',
      format: 'counts',
      groupBy: 'defect_code',
    });
  });

  it.each<[string, boolean]>([
    ['circuit_id_match', false],
    ['trace_id', false],
    ['$method', false],
    ['circuit_match', true],
  ])('flags a correlation method the correlator would refuse: %s', (method, flagged) => {
    renderEditor({ refId: 'A', queryType: 'correlations', method });
    const message = screen.queryByText(/^A method is one of trace_id, circuit_id_match, product_id_match, resource_id_match/);
    expect(message !== null).toBe(flagged);
  });

  it('filters MDSO issues by state and flags a malformed defect code', () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'mdsoIssues', defect: 'E42' });
    expect(screen.getByText('A defect code looks like DE-1234, or "uncategorized"')).toBeInTheDocument();
    fireEvent.click(screen.getByLabelText('Regressed'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'mdsoIssues', defect: 'E42', state: 'regressed' });
  });
});
