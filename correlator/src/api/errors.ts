// The correlator's coded errors. Codes are stable API: a retired code is never reused.
import { DATA_DIR_LOST_CODE, alreadyToldOf, unstoredWriteCode } from '../store/write-failure.js';
export class CorrelatorError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CorrelatorError';
  }
}

export const errors = {
  badTime: (param: string, value: string) =>
    new CorrelatorError('CORR_ERR_BAD_TIME', 400, `${param} "${value}" is no time: give epoch seconds (up to 10 digits), milliseconds (11 to 15), nanoseconds (19) or RFC 3339`),
  badSeverity: (param: string, value: string) =>
    new CorrelatorError(
      'CORR_ERR_BAD_SEVERITY',
      400,
      `${param} "${value}" is no severity: give an OTLP severity number 1-24 or a name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, warning, critical...)`,
    ),
  badCursor: (param: string, value: string, why: string) =>
    new CorrelatorError(
      'CORR_ERR_BAD_CURSOR',
      400,
      `${param} "${value.length > 80 ? `${value.slice(0, 80)}…` : value}" is no page cursor of this API (${why}): give a nextCursor as a list answered it`,
    ),
  badRange: (from: string, to: string) => new CorrelatorError('CORR_ERR_BAD_RANGE', 400, `from (${from}) is after to (${to})`),
  circuitNotFound: (id: string) =>
    new CorrelatorError('CORR_ERR_CIRCUIT_NOT_FOUND', 404, `no data for circuit "${id}" in the store`),
  traceNotFound: (id: string) => new CorrelatorError('CORR_ERR_TRACE_NOT_FOUND', 404, `no trace with id ${id} in the store`),
  /** `accepted`: the media types the route takes, for the client to know what to send instead. */
  unsupportedMediaType: (ct: string | undefined, accepted: readonly string[], code = 'CORR_ERR_OTLP_BAD_CONTENT_TYPE') =>
    new CorrelatorError(
      code,
      415,
      `${ct ? `unsupported Content-Type "${ct}"` : 'the Content-Type header is missing'}: send ${accepted.join(' or ')}`,
    ),
  badEncoding: (enc: string) =>
    new CorrelatorError('CORR_ERR_BAD_CONTENT_ENCODING', 415, `unsupported Content-Encoding "${enc}": use gzip, deflate or identity`),
  stackedEncoding: (enc: string) =>
    new CorrelatorError('CORR_ERR_BAD_CONTENT_ENCODING', 415, `unsupported Content-Encoding "${enc}": a body encoded more than once is not taken; use one of gzip, deflate or identity`),
  corruptCompression: (enc: string, detail: string) =>
    new CorrelatorError('CORR_ERR_CORRUPT_BODY', 400, `request body is not valid ${enc}: ${detail}`),
  undecodable: (detail: string) => new CorrelatorError('CORR_ERR_OTLP_UNDECODABLE', 400, `cannot decode OTLP request: ${detail}`),
  /** `n`: the records counted, which stops once past the limit. */
  tooManyRecords: (n: number, max: number) =>
    new CorrelatorError('CORR_ERR_BATCH_TOO_LARGE', 413, `batch has at least ${n} records, over MAX_BATCH_SIZE (${max}); send them in smaller batches`),
  /** A JSON log batch whose resource is over a limit: every record would carry it, so none is stored. */
  batchResourceOverLimit: (why: string) =>
    new CorrelatorError('CORR_ERR_BATCH_RESOURCE_OVER_LIMIT', 400, `${why}: the batch is refused, no record of it stored`),
  /** A JSON log batch sent as a bare list of records, or as anything but an object. */
  batchNotObject: (got: string) =>
    new CorrelatorError('CORR_ERR_BAD_BATCH', 400, `the batch is ${got}, not an object: send {"resource": {"service": ...}, "records": [...]}`),
  tooManyItems: (why: string) => new CorrelatorError('CORR_ERR_TOO_MANY_ITEMS', 413, why),
  busy: (why: string, retryAfterSeconds: number) => new CorrelatorError('CORR_ERR_BUSY', 429, why, retryAfterSeconds),
  unavailable: (why: string, retryAfterSeconds: number) =>
    new CorrelatorError('CORR_ERR_UNAVAILABLE', 503, why, retryAfterSeconds),
  unauthorized: () => new CorrelatorError('CORR_ERR_UNAUTHORIZED', 401, 'missing or invalid credentials'),
  methodNotAllowed: (method: string, url: string, allowed: readonly string[]) =>
    new CorrelatorError('CORR_ERR_METHOD_NOT_ALLOWED', 405, `${method} is not allowed on ${url}; use ${allowed.join(' or ')}`),
};

/**
 * A failed store write (SQLite busy, disk full, I/O) as the 503 clients retry, or null for any
 * other error. The data was not stored: a 500 would make an OTLP client drop it.
 */
export function storeUnavailable(e: unknown): CorrelatorError | null {
  const code = unstoredWriteCode(e);
  if (code === null) return null;
  return errors.unavailable(`the store could not accept the data (${code}); retry later`, 10);
}

/**
 * storeUnavailable for an ingest route, which logs each failed write, but not the refusals of a
 * store whose DATA_DIR is gone (it refuses every write from then on, and logged why once) nor
 * those of a storage already known to take no writes (a full disk: one line, not one a request).
 */
export function ingestRefusal(e: unknown, log: { error: (obj: object, msg: string) => void }): CorrelatorError | null {
  const unavailable = storeUnavailable(e);
  if (unavailable && unstoredWriteCode(e) !== DATA_DIR_LOST_CODE && !alreadyToldOf(e)) log.error({ err: e }, 'store write failed');
  return unavailable;
}
