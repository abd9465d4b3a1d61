import React from 'react';
import { DataSourcePicker } from '@grafana/runtime';
import { InlineField } from '@grafana/ui';

interface Props {
  label: string;
  tooltip: string;
  /** Grafana plugin type of the datasources offered, e.g. `tempo`. */
  pluginId: string;
  uid?: string;
  onChange: (uid: string | undefined) => void;
}

/** Chooses another datasource (Tempo, Loki) that data links lead to. */
export function LinkedDatasourcePicker({ label, tooltip, pluginId, uid, onChange }: Props) {
  const inputId = `linked-${pluginId}`;
  return (
    <InlineField label={label} labelWidth={24} tooltip={tooltip} htmlFor={inputId}>
      <DataSourcePicker
        inputId={inputId}
        pluginId={pluginId}
        current={uid ?? null}
        noDefault
        width={40}
        onChange={(ds) => onChange(ds.uid)}
        onClear={() => onChange(undefined)}
      />
    </InlineField>
  );
}
