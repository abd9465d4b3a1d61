import { CustomVariableSupport, type DataQueryRequest, type DataQueryResponse } from '@grafana/data';
import { from, map, type Observable } from 'rxjs';
import type { CorrelatorDataSource } from '../datasource';
import { variableFrame } from '../frames/variableFrame';
import type { CorrelatorVariableQuery } from '../types';
import { normalizeVariableQuery, VariableQueryEditor } from './VariableQueryEditor';

export class CorrelatorVariableSupport extends CustomVariableSupport<CorrelatorDataSource, CorrelatorVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: CorrelatorDataSource) {
    super();
  }

  query(request: DataQueryRequest<CorrelatorVariableQuery>): Observable<DataQueryResponse> {
    return from(this.datasource.variableValues(normalizeVariableQuery(request.targets[0]), request.range)).pipe(
      map((values) => ({ data: [variableFrame(values)] }))
    );
  }
}
