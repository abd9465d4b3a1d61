// The body of an error answer, one shape per kind of route: what the error handler sends and what
// is written on the socket when an upload stalls (overload.ts) must not drift apart.
import { STATUS_CODES } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { OtlpEncoding } from '../otlp/responses.js';
import { requestEncoding } from './routes/otlp.js';

/** The API's JSON error, as every route but the OTLP receivers answers. */
export interface ApiError {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

export function apiError(status: number, code: string, message: string): ApiError {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message };
}

/**
 * The encoding of an OTLP receiver's error (a google.rpc.Status, as OTLP/HTTP has it: the request's
 * encoding, JSON when it had none of the two); null on any other route.
 */
export function otlpErrorEncoding(request: FastifyRequest): OtlpEncoding | null {
  return request.routeOptions.config?.otlpSignal ? (requestEncoding(request) ?? 'json') : null;
}
