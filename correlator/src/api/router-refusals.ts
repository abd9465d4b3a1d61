// What the router refuses before any route is found: a path parameter past maxParamLength and a
// malformed percent-encoding. fastify's own answers quoted the whole path (3 KB and more), said
// "Bad Request" under a 414, and had no charset; these answer in the shape every route does, as
// the 400 a too-long id within the router's bound already gets from the route's schema (RV18).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from './error-answers.js';

/** How much of a refused path a message quotes. */
const QUOTED = 80;

const quoted = (path: string) => JSON.stringify(path.length > QUOTED ? `${path.slice(0, QUOTED)}…` : path);

/** fastify's `frameworkErrors`, for a router whose parameters are at most `maxParamLength` characters. */
export function answerRouterRefusals(maxParamLength: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const path = request.raw.url?.split('?')[0] ?? '';
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      reply
        .code(400)
        .send(apiError(400, 'CORR_ERR_PARAM_TOO_LONG', `a path parameter of ${quoted(path)} is over ${maxParamLength} characters; an id is at most 512`));
      return;
    }
    if (error.code === 'FST_ERR_BAD_URL') {
      reply.code(400).send(apiError(400, 'CORR_ERR_BAD_URL', `the path ${quoted(path)} is not valid percent-encoding`));
      return;
    }
    const status = error.statusCode ?? 400;
    reply.code(status).send(apiError(status, error.code ?? 'CORR_ERR_BAD_REQUEST', error.message));
  };
}
