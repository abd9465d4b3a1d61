import { dateTime, type DataQueryRequest, type DataSourceInstanceSettings, type ScopedVars } from '@grafana/data';
import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { Observable, of, throwError } from 'rxjs';
import type { FetchSrv } from '../api/client';
import type { CorrelatorJsonData, CorrelatorQuery } from '../types';

export const BASE_URL = '/api/datasources/proxy/uid/corr-uid';

/** A canned answer: JSON data for 200, or a FetchError-shaped failure. */
export type FakeAnswer = { data: unknown } | { status: number; data?: unknown };

/**
 * Stand-in for Grafana's BackendSrv: answers by path (without the proxy prefix) and records the
 * URLs requested, so tests can check query strings.
 */
export class FakeBackendSrv implements FetchSrv {
  readonly urls: string[] = [];

  constructor(private readonly answers: Record<string, FakeAnswer>) {}

  fetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
    this.urls.push(options.url);
    const path = options.url.slice(BASE_URL.length).split('?')[0];
    const answer = this.answers[path];
    if (!answer) {
      return throwError(() => ({
        status: 404,
        statusText: 'Not Found',
        data: { statusCode: 404, error: 'Not Found', message: `no route ${path}` },
        config: options,
      }));
    }
    if ('status' in answer) {
      return throwError(() => ({ status: answer.status, statusText: '', data: answer.data, config: options }));
    }
    return of({
      data: answer.data as T,
      status: 200,
      statusText: 'OK',
      ok: true,
      headers: new Headers(),
      redirected: false,
      type: 'basic',
      url: options.url,
      config: options,
    });
  }

  /** Query parameters of the requests to a path. */
  paramsOf(path: string): URLSearchParams[] {
    return this.urls
      .filter((url) => url.slice(BASE_URL.length).split('?')[0] === path)
      .map((url) => new URLSearchParams(url.split('?')[1] ?? ''));
  }
}

/** Replaces `$name` and `${name}` from a fixed map, like Grafana's template service. */
export const fakeTemplateSrv = (vars: Record<string, string>) => ({
  replace: (text?: string, scoped?: ScopedVars) =>
    (text ?? '').replace(/\$\{?(\w+)\}?/g, (whole, name: string) =>
      String(scoped?.[name]?.value ?? vars[name] ?? whole)
    ),
});

export const fakeDataSourceSrv = {
  getInstanceSettings: (uid: string) =>
    ({ uid, name: uid === 'tempo-uid' ? 'Tempo' : 'Loki' }) as DataSourceInstanceSettings,
};

export function instanceSettings(jsonData: CorrelatorJsonData = {}): DataSourceInstanceSettings<CorrelatorJsonData> {
  return {
    id: 1,
    uid: 'corr-uid',
    type: 'seefa-correlation-datasource',
    name: 'Correlation Station',
    url: BASE_URL,
    access: 'proxy',
    jsonData,
    readOnly: false,
    meta: {} as DataSourceInstanceSettings['meta'],
  };
}

export const RANGE_FROM = 1700000000000;
export const RANGE_TO = 1700003600000;

export function request(targets: CorrelatorQuery[], scopedVars: ScopedVars = {}): DataQueryRequest<CorrelatorQuery> {
  const from = dateTime(RANGE_FROM);
  const to = dateTime(RANGE_TO);
  return {
    requestId: 'test',
    interval: '1m',
    intervalMs: 60_000,
    range: { from, to, raw: { from, to } },
    scopedVars,
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: 0,
  };
}
