import { outcomeFromError, outcomeFromInfo } from './testOutcome';

const info = {
  service: 'correlation-station-correlator',
  version: '0.1.0',
  apiVersion: 1,
  authMode: 'bearer',
  correlationWindowSeconds: 300,
  features: { mdso: true, tempoExport: false },
};

describe('outcomeFromInfo', () => {
  it.each([
    [
      'the correlator at the right version',
      info,
      'success',
      /^Connected to the correlator 0\.1\.0 \(API v1, auth: bearer, MDSO analysis on\)/,
    ],
    ['another service', { service: 'tempo', apiVersion: 1 }, 'error', /^Wrong service: .*"tempo"/],
    ['JSON without a service field', { status: 'ok' }, 'error', /^Wrong service: .*something else/],
    ['an HTML page', '<html><body>Welcome</body></html>', 'error', /^Wrong service/],
    ['an empty body', null, 'error', /^Wrong service/],
    [
      'a newer API',
      { ...info, apiVersion: 2 },
      'error',
      /^Version mismatch: .*version 2.*needs version 1\. Upgrade the plugin/,
    ],
    ['an older API', { ...info, apiVersion: 0 }, 'error', /^Version mismatch: .*Upgrade the correlator/],
  ])('%s → %s', (_name, body, status, message) => {
    const outcome = outcomeFromInfo(body);
    expect(outcome.status).toBe(status);
    expect(outcome.message).toMatch(message);
  });
});

describe('outcomeFromError', () => {
  const fetchError = (status: number, data?: unknown) => ({ status, statusText: '', data, config: { url: '/x' } });
  it.each([
    ['a bad gateway from the proxy', fetchError(502, { message: 'Bad Gateway' }), /^Unreachable: .*\(HTTP 502\)/],
    ['a gateway timeout', fetchError(504), /^Unreachable/],
    ['no status at all (network)', fetchError(0), /^Unreachable: Grafana could not reach the correlator\. /],
    ['a thrown Error', new Error('socket hang up'), /^Unreachable: socket hang up/],
    [
      '401',
      fetchError(401, { statusCode: 401, error: 'Unauthorized', message: 'missing bearer token' }),
      /^Auth refused \(HTTP 401\)/,
    ],
    ['403', fetchError(403), /^Auth refused \(HTTP 403\)/],
    ['404', fetchError(404), /^Wrong service: the URL has no \/api\/info/],
    [
      '500 with a message',
      fetchError(500, { statusCode: 500, error: 'x', message: 'database locked' }),
      /^The correlator answered HTTP 500: database locked/,
    ],
  ])('%s', (_name, err, message) => {
    const outcome = outcomeFromError(err);
    expect(outcome.status).toBe('error');
    expect(outcome.message).toMatch(message);
  });

  it('passes the correlator message on as details', () => {
    expect(outcomeFromError(fetchError(401, { message: 'missing bearer token' })).details).toEqual({
      message: 'missing bearer token',
    });
  });
});
