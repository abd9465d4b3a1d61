import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';

/** Template-variable options: Grafana takes `text` and `value` fields as the option list. */
export function variableFrame(values: string[]): DataFrame {
  return createDataFrame({
    fields: [
      { name: 'text', type: FieldType.string, values },
      { name: 'value', type: FieldType.string, values },
    ],
  });
}
