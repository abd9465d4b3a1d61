// A path of the query API asked with a method it does not take (POST /api/circuits, DELETE
// /api/traces/{id}) was a 404 "no route", which tells a client the path is wrong when the method
// is. HTTP's answer is a 405 with Allow. The ingest paths name their own (otlp.ts, api-logs.ts);
// this gives every other path under /api the same, and the service's own (/health, /docs…).
import type { FastifyInstance, RouteOptions } from 'fastify';
import { errors } from './errors.js';
import { otherMethods } from './other-methods.js';

export class ServedMethods {
  private readonly byUrl = new Map<string, Set<string>>();

  /** Notes a route as fastify's onRoute hook sees it. */
  note(route: Pick<RouteOptions, 'method' | 'url' | 'prefixTrailingSlash'> & { routePath?: string }): void {
    this.add(route.url, route.method);
    // A plugin's '/' route is served at its prefix with and without the slash, but fastify runs
    // the hook only for the first (prefixTrailingSlash 'both', its default): '/docs/' went unnoted.
    if (route.routePath === '' && (route.prefixTrailingSlash ?? 'both') === 'both') this.add(`${route.url}/`, route.method);
  }

  private add(url: string, method: RouteOptions['method']): void {
    let methods = this.byUrl.get(url);
    if (!methods) this.byUrl.set(url, (methods = new Set()));
    for (const m of [method].flat()) methods.add(m.toUpperCase());
  }

  /** The methods `url` serves, HEAD with GET as fastify serves it. */
  served(url: string): string[] {
    const methods = new Set(this.byUrl.get(url) ?? []);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  /** Paths noted so far that `wanted` takes, each with the methods it serves. */
  paths(wanted: (url: string) => boolean): [url: string, served: string[]][] {
    return [...this.byUrl.keys()].filter(wanted).map(u => [u, this.served(u)]);
  }
}

/** Registers on `app`, for each path `wanted` takes that lacks some, a 405 route for the methods it does not serve. */
export function answerOtherMethods(app: FastifyInstance, served: ServedMethods, wanted: (url: string) => boolean): void {
  for (const [url, methods] of served.paths(wanted)) {
    const others = otherMethods(app, methods);
    if (others.length === 0) continue;
    const allow = methods.join(', ');
    const usable = methods.filter(m => m !== 'HEAD');
    app.route({
      method: others,
      url,
      schema: { hide: true },
      handler: async (request, reply) => {
        reply.header('Allow', allow);
        throw errors.methodNotAllowed(request.method, request.url.split('?')[0]!, usable);
      },
    });
  }
}
