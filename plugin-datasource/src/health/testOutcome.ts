import { isFetchError } from '@grafana/runtime';
import { CORRELATOR_SERVICE_NAME, EXPECTED_API_VERSION } from '../constants';

export interface TestOutcome {
  status: 'success' | 'error';
  message: string;
  details?: { message?: string; verboseMessage?: string };
}

interface InfoLike {
  service?: unknown;
  version?: unknown;
  apiVersion?: unknown;
  authMode?: unknown;
  features?: { mdso?: unknown };
}

/** What "Save & test" says about a successful GET /api/info: right service, compatible version. */
export function outcomeFromInfo(body: unknown): TestOutcome {
  const info: InfoLike | undefined = typeof body === 'object' && body !== null ? (body as InfoLike) : undefined;
  if (!info || info.service !== CORRELATOR_SERVICE_NAME) {
    const seen = info && typeof info.service === 'string' ? `a service named "${info.service}"` : 'something else';
    return {
      status: 'error',
      message: `Wrong service: the URL answers, but as ${seen}, not the Correlation Station correlator. Check the URL.`,
      details: { message: typeof body === 'string' ? body.slice(0, 200) : undefined },
    };
  }
  if (info.apiVersion !== EXPECTED_API_VERSION) {
    return {
      status: 'error',
      message:
        `Version mismatch: the correlator speaks API version ${String(info.apiVersion)}, this plugin needs ` +
        `version ${EXPECTED_API_VERSION}. Upgrade the ${Number(info.apiVersion) > EXPECTED_API_VERSION ? 'plugin' : 'correlator'}.`,
    };
  }
  const mdso = info.features?.mdso ? 'MDSO analysis on' : 'MDSO analysis off';
  return {
    status: 'success',
    message: `Connected to the correlator ${String(info.version)} (API v${EXPECTED_API_VERSION}, auth: ${String(info.authMode)}, ${mdso}).`,
  };
}

function bodyMessage(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return undefined;
}

/** What "Save & test" says when GET /api/info failed: unreachable, auth refused, wrong service or a server error. */
export function outcomeFromError(err: unknown): TestOutcome {
  if (!isFetchError(err)) {
    return { status: 'error', message: `Unreachable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const detail = bodyMessage(err.data);
  const details = detail ? { message: detail } : undefined;
  const status = err.status;
  if (!status || status === 502 || status === 503 || status === 504) {
    return {
      status: 'error',
      message:
        `Unreachable: Grafana could not reach the correlator${status ? ` (HTTP ${status})` : ''}. ` +
        'Check the URL and that the correlator is running and reachable from the Grafana server.',
      details,
    };
  }
  if (status === 401 || status === 403) {
    return {
      status: 'error',
      message: `Auth refused (HTTP ${status}): the correlator rejected the credentials. Check the authentication settings.`,
      details,
    };
  }
  if (status === 404) {
    return {
      status: 'error',
      message: 'Wrong service: the URL has no /api/info (HTTP 404). Is this the Correlation Station correlator?',
      details,
    };
  }
  return {
    status: 'error',
    message: `The correlator answered HTTP ${status}${detail ? `: ${detail}` : ''}.`,
    details,
  };
}
