// The 408 of a request whose body did not all come in time, written on its socket (no reply can
// carry it: the body is still expected). Two timers write it: OverloadGuard's for an ingest upload
// (REQUEST_TIMEOUT_MS, REQUEST_IDLE_TIMEOUT_MS) and node's own requestTimeout (client-errors.ts),
// which comes first when the headers were slow to arrive; both answer alike.
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { CONTENT_TYPE, rpcStatus, type OtlpEncoding } from '../otlp/responses.js';
import { apiError, otlpErrorEncoding } from './error-answers.js';

/** What the answer says, naming the setting that cut the upload. */
export function uploadTimeoutMessage(setting: string): string {
  return `request body not received within ${setting}; connection closed`;
}

/**
 * The 408 with a body naming the setting, as every other refusal names its reason (a review found
 * it empty, and an operator with nothing to go on): an OTLP route's in the request's encoding, as
 * its other errors are; another route's as the API's errors are.
 */
export function requestTimeoutAnswer(request: FastifyRequest, message: string): Buffer {
  return timeoutAnswerBytes(otlpErrorEncoding(request), message);
}

/** The same, for a route known by how it answers: `encoding` an OTLP route's, null another's. */
export function timeoutAnswerBytes(encoding: OtlpEncoding | null, message: string): Buffer {
  const body = encoding ? rpcStatus(408, message, encoding) : JSON.stringify(apiError(408, 'CORR_ERR_REQUEST_TIMEOUT', message));
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const type = encoding ? CONTENT_TYPE[encoding] : 'application/json';
  const head = `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

/**
 * Requests whose upload was cut at a request timeout, answered 408 on the socket: the error the cut
 * body then raises is counted as that 408, not as the 400 it would otherwise be.
 */
const timedOut = new WeakSet<IncomingMessage>();

export function noteUploadTimedOut(raw: IncomingMessage): void {
  timedOut.add(raw);
}

/** Whether `raw`'s upload was cut at a request timeout (its client was answered 408). */
export function uploadTimedOut(raw: IncomingMessage): boolean {
  return timedOut.has(raw);
}
