// A request's media type as routes compare it: the Content-Type without its parameters, in lower case.
import type { FastifyRequest } from 'fastify';

export function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}
