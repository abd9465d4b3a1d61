import { lastValueFrom } from 'rxjs';
import type { BackendSrv } from '@grafana/runtime';

/** Query-string values; `undefined` and empty strings are left out so the correlator's defaults apply. */
export type QueryParams = Record<string, string | number | undefined>;

export function buildUrl(baseUrl: string, path: string, params: QueryParams = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') {
      continue;
    }
    search.append(key, String(value));
  }
  const query = search.toString();
  return `${baseUrl}${path}${query ? `?${query}` : ''}`;
}

/** The subset of Grafana's BackendSrv the client needs, so tests can pass a fetch-based stand-in. */
export type FetchSrv = Pick<BackendSrv, 'fetch'>;

/**
 * GETs JSON from the correlator through Grafana's data proxy. Errors are Grafana's FetchError
 * (`{status, statusText, data}`), with the correlator's `{statusCode, error, code, message}` as `data`.
 */
export class CorrelatorClient {
  constructor(
    private readonly baseUrl: string,
    private readonly backendSrv: FetchSrv
  ) {}

  async get<T>(path: string, params?: QueryParams): Promise<T> {
    const response = await lastValueFrom(
      this.backendSrv.fetch<T>({
        url: buildUrl(this.baseUrl, path, params),
        method: 'GET',
        // Errors are shown where the query ran (panel, Save & test), not as global toasts.
        showErrorAlert: false,
      })
    );
    return response.data;
  }
}

/** Encodes one path segment such as a circuit id, which may contain slashes or spaces. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
