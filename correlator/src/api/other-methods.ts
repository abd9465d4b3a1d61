// The methods a route answers 405 to: every one Node's HTTP parser takes but those the path serves.
// fastify routes only the methods it knows (GET, PUT, OPTIONS, TRACE…); any other (PROPFIND,
// SEARCH…) reached the not-found handler and was answered 404 "no route", though the README
// promises a 405 for any other method on these paths.
import { METHODS } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * The methods other than `served`, each made routable on `app` if it was not: without a body,
 * which a 405 does not read. CONNECT is left out: Node hands it to the server's `connect` event,
 * never to a route.
 */
export function otherMethods(app: FastifyInstance, served: readonly string[]): string[] {
  const others = METHODS.filter(m => m !== 'CONNECT' && !served.includes(m));
  for (const m of others) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m);
  return others;
}
