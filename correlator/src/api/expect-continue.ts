// `Expect: 100-continue` lets a client wait to be told before it uploads. node answers "100
// Continue" on its own before the app has seen the request, so a Content-Length of 10 GB was told
// to go on and then refused 413, and an upload past MAX_INFLIGHT_BYTES would have been told to go
// on and then refused 503. Here the request goes to the app untold; it is told to go on only once
// its route is about to read the body, after every check that can refuse it by its head alone.
import type { Server } from 'node:http';
import { errorCodes, type FastifyReply, type FastifyRequest } from 'fastify';

/** Hands requests that expect 100-continue to the app (its 'request' listener) without the 100. */
export function deferContinue(server: Server): void {
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
}

/**
 * A preParsing hook's first step: tells a client waiting for it to send its body. Not on GET and
 * HEAD, whose bodies are never read.
 */
export function continueIfExpected(request: FastifyRequest, reply: FastifyReply): void {
  if (request.method === 'GET' || request.method === 'HEAD') return;
  const expect = request.headers.expect;
  if (typeof expect !== 'string' || expect.trim().toLowerCase() !== '100-continue') return;
  if (!reply.raw.headersSent) reply.raw.writeContinue();
}

/**
 * An onRequest hook: a declared Content-Length over the route's body limit is 413 at once, before
 * anything counts the request in (an ingest route would otherwise answer 503, retry later) and
 * before the client is told to send it. fastify's own check comes only when the body is read.
 */
export async function refuseDeclaredOverLimit(request: FastifyRequest): Promise<void> {
  if (request.method === 'GET' || request.method === 'HEAD') return;
  if (Number(request.headers['content-length']) > request.routeOptions.bodyLimit) {
    throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
  }
}
