import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { CorrelatorQuery } from '../types';
import { AnnotationQueryEditor } from './AnnotationQueryEditor';

describe('AnnotationQueryEditor', () => {
  it('starts from MDSO failures and switches to issues, dropping the circuit filter field', () => {
    const onChange = jest.fn();
    render(
      <AnnotationQueryEditor
        query={{ refId: 'Anno' } as CorrelatorQuery}
        onChange={onChange}
        onRunQuery={jest.fn()}
        datasource={{}}
      />
    );
    expect(screen.getByLabelText('MDSO failures')).toBeChecked();
    expect(screen.getByLabelText('Circuit id')).toBeInTheDocument();
    fireEvent.click(screen.getByLabelText('New and regressed issues'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'Anno', queryType: 'annotations', source: 'mdsoIssues' });
  });
});
