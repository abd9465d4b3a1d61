import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { DataSourceSettings } from '@grafana/data';
import type { CorrelatorJsonData, CorrelatorSecureJsonData } from '../types';
import { ConfigEditor, tracesToLogs, withAuthMode } from './ConfigEditor';

// The real picker needs Grafana's datasource service; the stand-in shows what it was given.
jest.mock('./LinkedDatasourcePicker', () => ({
  LinkedDatasourcePicker: ({
    label,
    uid,
    onChange,
  }: {
    label: string;
    uid?: string;
    onChange: (uid?: string) => void;
  }) => <button onClick={() => onChange(`picked-${label}`)}>{`${label}: ${uid ?? 'none'}`}</button>,
}));

type Options = DataSourceSettings<CorrelatorJsonData, CorrelatorSecureJsonData>;

function options(overrides: Partial<Options> = {}): Options {
  return {
    id: 1,
    uid: 'corr-uid',
    orgId: 1,
    name: 'Correlation Station',
    type: 'seefa-correlation-datasource',
    typeName: 'Correlation Station',
    typeLogoUrl: '',
    access: 'proxy',
    url: 'http://correlator:4319',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...overrides,
  };
}

function renderEditor(opts: Options) {
  const onOptionsChange = jest.fn();
  render(<ConfigEditor options={opts} onOptionsChange={onOptionsChange} />);
  return onOptionsChange;
}

describe('ConfigEditor', () => {
  it('edits the URL and always uses the data proxy', () => {
    const onChange = renderEditor(options({ access: 'direct' }));
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'http://other:1' } });
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ url: 'http://other:1', access: 'proxy' }));
  });

  it('shows no credential fields without authentication', () => {
    renderEditor(options());
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Token')).not.toBeInTheDocument();
  });

  describe('bearer token', () => {
    const bearer = (configured: boolean) =>
      options({
        jsonData: { authMode: 'bearer', httpHeaderName1: 'Authorization' },
        secureJsonFields: { httpHeaderValue1: configured },
      });

    it('stores a new token only in secureJsonData, as the Authorization header value', () => {
      const onChange = renderEditor(bearer(false));
      fireEvent.change(screen.getByLabelText('Token'), { target: { value: 's3cret' } });
      const next: Options = onChange.mock.calls[0][0];
      expect(next.secureJsonData).toEqual({ httpHeaderValue1: 'Bearer s3cret' });
      expect(JSON.stringify(next.jsonData)).not.toContain('s3cret');
    });

    it('shows a configured token as configured, without its value, and resets it', () => {
      const onChange = renderEditor(bearer(true));
      const input = screen.getByLabelText('Token');
      expect(input).toBeDisabled();
      expect(input).toHaveValue('configured');
      fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
      const next: Options = onChange.mock.calls[0][0];
      expect(next.secureJsonFields.httpHeaderValue1).toBe(false);
      expect(next.secureJsonData?.httpHeaderValue1).toBe('');
    });
  });

  describe('basic auth', () => {
    it('shows a configured password as configured and resets it', () => {
      const onChange = renderEditor(
        options({
          basicAuth: true,
          basicAuthUser: 'grafana',
          jsonData: { authMode: 'basic' },
          secureJsonFields: { basicAuthPassword: true },
        })
      );
      expect(screen.getByLabelText('User')).toHaveValue('grafana');
      expect(screen.getByLabelText('Password')).toHaveValue('configured');
      fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
      expect(onChange.mock.calls[0][0].secureJsonFields.basicAuthPassword).toBe(false);
    });

    it('writes a new password to secureJsonData', () => {
      const onChange = renderEditor(options({ basicAuth: true, jsonData: { authMode: 'basic' } }));
      fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pw' } });
      expect(onChange.mock.calls[0][0].secureJsonData).toEqual({ basicAuthPassword: 'pw' });
    });
  });

  it('switches auth mode from the radio group', () => {
    const onChange = renderEditor(options());
    fireEvent.click(screen.getByLabelText('Bearer token'));
    expect(onChange.mock.calls[0][0].jsonData).toMatchObject({ authMode: 'bearer', httpHeaderName1: 'Authorization' });
  });

  it('stores the linked Tempo and Loki datasources', () => {
    const onChange = renderEditor(options({ jsonData: { tempoDatasourceUid: 'tempo-1' } }));
    expect(screen.getByText('Tempo datasource: tempo-1')).toBeInTheDocument();
    fireEvent.click(screen.getByText('Loki datasource: none'));
    expect(onChange.mock.calls[0][0].jsonData).toEqual({
      tempoDatasourceUid: 'tempo-1',
      lokiDatasourceUid: 'picked-Loki datasource',
      tracesToLogsV2: tracesToLogs('picked-Loki datasource'),
    });
  });

  it.each([
    ['24h', false],
    ['7d', false],
    ['yesterday', true],
  ])('flags default lookback %p as invalid: %p', (lookback, invalid) => {
    renderEditor(options({ jsonData: { defaultLookback: lookback } }));
    expect(screen.queryByText('Use a duration such as 30m, 24h or 7d') !== null).toBe(invalid);
  });
});

describe('withAuthMode', () => {
  const all = options({
    basicAuth: true,
    basicAuthUser: 'u',
    jsonData: { authMode: 'basic', httpHeaderName1: 'Authorization' },
    secureJsonFields: { basicAuthPassword: true, httpHeaderValue1: true },
  });

  it.each([
    ['none', { basicAuth: false, basicAuthUser: '' }, { basicAuthPassword: false, httpHeaderValue1: false }, undefined],
    ['basic', { basicAuth: true, basicAuthUser: 'u' }, { basicAuthPassword: true, httpHeaderValue1: false }, undefined],
    [
      'bearer',
      { basicAuth: false, basicAuthUser: '' },
      { basicAuthPassword: false, httpHeaderValue1: true },
      'Authorization',
    ],
  ] as const)('%s keeps only its own secrets', (mode, top, fields, header) => {
    const next = withAuthMode(all, mode);
    expect(next).toMatchObject(top);
    expect(next.secureJsonFields).toEqual(fields);
    expect(next.jsonData.authMode).toBe(mode);
    expect(next.jsonData.httpHeaderName1).toBe(header);
  });
});

describe('tracesToLogs', () => {
  it('is off without a Loki datasource', () => {
    expect(tracesToLogs(undefined)).toBeUndefined();
  });

  it("finds the lines of the span's service and trace around the span", () => {
    expect(tracesToLogs('loki-1')).toEqual({
      datasourceUid: 'loki-1',
      filterByTraceID: true,
      filterBySpanID: false,
      spanStartTimeShift: '-5m',
      spanEndTimeShift: '5m',
      tags: [{ key: 'service.name', value: 'service_name' }],
    });
  });
});
