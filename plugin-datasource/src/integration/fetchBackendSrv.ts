import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { defer, type Observable } from 'rxjs';
import type { FetchSrv } from '../api/client';

export const PROXY_PREFIX = '/api/datasources/proxy/uid/it-uid';

/**
 * A fetch-based stand-in for Grafana's BackendSrv plus data proxy: strips the proxy prefix, adds the
 * headers the proxy would add (credentials), parses JSON like Grafana does, turns non-2xx answers
 * into FetchError-shaped objects and an unreachable upstream into the proxy's 502.
 */
export class FetchBackendSrv implements FetchSrv {
  constructor(
    private readonly upstream: string,
    private readonly proxyHeaders: Record<string, string> = {}
  ) {}

  fetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
    return defer(() => this.send<T>(options));
  }

  private async send<T>(options: BackendSrvRequest): Promise<FetchResponse<T>> {
    if (!options.url.startsWith(PROXY_PREFIX)) {
      throw new Error(`request outside the data proxy: ${options.url}`);
    }
    const url = `${this.upstream}${options.url.slice(PROXY_PREFIX.length)}`;
    let response: Response;
    try {
      response = await fetch(url, { method: options.method ?? 'GET', headers: this.proxyHeaders });
    } catch {
      throw { status: 502, statusText: 'Bad Gateway', data: { message: 'Bad Gateway' }, config: options };
    }
    const text = await response.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // Grafana hands non-JSON bodies over as text.
    }
    if (!response.ok) {
      throw { status: response.status, statusText: response.statusText, data, config: options };
    }
    return {
      data: data as T,
      status: response.status,
      statusText: response.statusText,
      ok: true,
      headers: response.headers,
      redirected: response.redirected,
      type: response.type,
      url: options.url,
      config: options,
    };
  }
}
