import React from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { FieldSet, InlineField, Input, RadioButtonGroup, SecretInput } from '@grafana/ui';
import type { AuthMode, CorrelatorJsonData, CorrelatorSecureJsonData, TracesToLogsSettings } from '../types';
import { LinkedDatasourcePicker } from './LinkedDatasourcePicker';

type Props = DataSourcePluginOptionsEditorProps<CorrelatorJsonData, CorrelatorSecureJsonData>;
type Options = Props['options'];

const AUTH_OPTIONS: Array<{ label: string; value: AuthMode }> = [
  { label: 'No authentication', value: 'none' },
  { label: 'Basic', value: 'basic' },
  { label: 'Bearer token', value: 'bearer' },
];

const LOOKBACK_PATTERN = /^\d+(ms|s|m|h|d|w|M|y)$/;
const BEARER_PREFIX = 'Bearer ';

/** Clears the secrets of the auth modes not in use, so a stale token is never sent. */
export function withAuthMode(options: Options, mode: AuthMode): Options {
  const next: Options = {
    ...options,
    basicAuth: mode === 'basic',
    basicAuthUser: mode === 'basic' ? options.basicAuthUser : '',
    jsonData: { ...options.jsonData, authMode: mode, httpHeaderName1: mode === 'bearer' ? 'Authorization' : undefined },
    secureJsonFields: { ...options.secureJsonFields },
    secureJsonData: { ...options.secureJsonData },
  };
  if (mode !== 'basic') {
    next.secureJsonFields.basicAuthPassword = false;
    next.secureJsonData = { ...next.secureJsonData, basicAuthPassword: '' };
  }
  if (mode !== 'bearer') {
    next.secureJsonFields.httpHeaderValue1 = false;
    next.secureJsonData = { ...next.secureJsonData, httpHeaderValue1: '' };
  }
  return next;
}

/** Trace-to-logs for Grafana's trace view: lines of the span's service and trace around the span. */
export function tracesToLogs(lokiUid: string | undefined): TracesToLogsSettings | undefined {
  if (!lokiUid) {
    return undefined;
  }
  return {
    datasourceUid: lokiUid,
    filterByTraceID: true,
    filterBySpanID: false,
    // Clocks of the three systems differ; a zero shift often finds nothing.
    spanStartTimeShift: '-5m',
    spanEndTimeShift: '5m',
    tags: [{ key: 'service.name', value: 'service_name' }],
  };
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const secureJsonData = options.secureJsonData ?? {};
  const authMode: AuthMode = jsonData.authMode ?? (options.basicAuth ? 'basic' : 'none');
  const lookbackInvalid = Boolean(jsonData.defaultLookback) && !LOOKBACK_PATTERN.test(jsonData.defaultLookback ?? '');

  const setJsonData = (change: Partial<CorrelatorJsonData>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...change } });
  const setSecret = (key: keyof CorrelatorSecureJsonData, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: value } });
  const resetSecret = (key: keyof CorrelatorSecureJsonData) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secureJsonData, [key]: '' },
    });

  return (
    <>
      <FieldSet label="Correlator">
        <InlineField
          label="URL"
          labelWidth={24}
          tooltip="Base URL of the correlator, as seen from the Grafana server"
          htmlFor="correlator-url"
        >
          <Input
            id="correlator-url"
            width={48}
            placeholder="http://correlator:4319"
            value={options.url}
            // Requests always go through Grafana's data proxy, which adds the credentials.
            onChange={(e) => onOptionsChange({ ...options, url: e.currentTarget.value, access: 'proxy' })}
          />
        </InlineField>
      </FieldSet>

      <FieldSet label="Authentication">
        <InlineField label="Method" labelWidth={24}>
          <RadioButtonGroup
            options={AUTH_OPTIONS}
            value={authMode}
            onChange={(mode) => onOptionsChange(withAuthMode(options, mode))}
          />
        </InlineField>
        {authMode === 'basic' && (
          <>
            <InlineField label="User" labelWidth={24} htmlFor="basic-auth-user">
              <Input
                id="basic-auth-user"
                width={40}
                value={options.basicAuthUser}
                onChange={(e) => onOptionsChange({ ...options, basicAuthUser: e.currentTarget.value })}
              />
            </InlineField>
            <InlineField label="Password" labelWidth={24} htmlFor="basic-auth-password">
              <SecretInput
                id="basic-auth-password"
                width={40}
                isConfigured={Boolean(secureJsonFields.basicAuthPassword)}
                value={secureJsonData.basicAuthPassword ?? ''}
                onChange={(e) => setSecret('basicAuthPassword', e.currentTarget.value)}
                onReset={() => resetSecret('basicAuthPassword')}
              />
            </InlineField>
          </>
        )}
        {authMode === 'bearer' && (
          <InlineField
            label="Token"
            labelWidth={24}
            htmlFor="bearer-token"
            tooltip="Sent as Authorization: Bearer <token>"
          >
            <SecretInput
              id="bearer-token"
              width={40}
              isConfigured={Boolean(secureJsonFields.httpHeaderValue1)}
              value={(secureJsonData.httpHeaderValue1 ?? '').replace(BEARER_PREFIX, '')}
              onChange={(e) => {
                const token = e.currentTarget.value;
                setSecret('httpHeaderValue1', token ? `${BEARER_PREFIX}${token}` : '');
              }}
              onReset={() => resetSecret('httpHeaderValue1')}
            />
          </InlineField>
        )}
      </FieldSet>

      <FieldSet label="Links">
        <LinkedDatasourcePicker
          label="Tempo datasource"
          tooltip="Spans, log lines and trace ids link to the same trace in this Tempo datasource"
          pluginId="tempo"
          uid={jsonData.tempoDatasourceUid}
          onChange={(uid) => setJsonData({ tempoDatasourceUid: uid })}
        />
        <LinkedDatasourcePicker
          label="Loki datasource"
          tooltip="Circuit and trace ids link to their log lines in this Loki datasource"
          pluginId="loki"
          uid={jsonData.lokiDatasourceUid}
          onChange={(uid) => setJsonData({ lokiDatasourceUid: uid, tracesToLogsV2: tracesToLogs(uid) })}
        />
      </FieldSet>

      <FieldSet label="Queries">
        <InlineField
          label="Default lookback"
          labelWidth={24}
          htmlFor="default-lookback"
          tooltip="Time window of template-variable queries, which have no dashboard time range, e.g. 24h or 7d"
          invalid={lookbackInvalid}
          error="Use a duration such as 30m, 24h or 7d"
        >
          <Input
            id="default-lookback"
            width={16}
            placeholder="24h"
            value={jsonData.defaultLookback ?? ''}
            onChange={(e) => setJsonData({ defaultLookback: e.currentTarget.value || undefined })}
          />
        </InlineField>
      </FieldSet>
    </>
  );
}
