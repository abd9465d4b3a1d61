import { DataSourcePlugin } from '@grafana/data';
import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { CorrelatorDataSource } from './datasource';
import type { CorrelatorJsonData, CorrelatorQuery, CorrelatorSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<
  CorrelatorDataSource,
  CorrelatorQuery,
  CorrelatorJsonData,
  CorrelatorSecureJsonData
>(CorrelatorDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
