import { isFetchError } from '@grafana/runtime';

interface CorrelatorErrorBody {
  statusCode?: number;
  error?: string;
  code?: string;
  message?: string;
}

function errorBody(data: unknown): CorrelatorErrorBody | undefined {
  return typeof data === 'object' && data !== null ? (data as CorrelatorErrorBody) : undefined;
}

/** One readable line for any failure of a correlator request. */
export function describeError(err: unknown): string {
  if (isFetchError(err)) {
    const body = errorBody(err.data);
    const status = err.status ? `HTTP ${err.status}` : 'network error';
    if (body?.message) {
      return `${body.message} (${body.code ? `${body.code}, ` : ''}${status})`;
    }
    return `Correlator request failed: ${status}${err.statusText ? ` ${err.statusText}` : ''}`;
  }
  if (err instanceof Error) {
    return err.message;
  }
  return typeof err === 'string' ? err : 'Unknown error';
}

/** The HTTP status of a failed request, or undefined when none came back. */
export function errorStatus(err: unknown): number | undefined {
  return isFetchError(err) && err.status ? err.status : undefined;
}
