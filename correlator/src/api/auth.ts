// Optional authentication for every route except health and readiness (and metrics unless
// configured). Secrets are compared in constant time, on digests so lengths do not leak either.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Base64 as RFC 7617 has it (RFC 4648's alphabet, padded). Node's decoder skips what is not
 * base64, so "Basic <right credentials> extra" passed: a header that is not what the client meant
 * to send is refused, not read as it might have been meant.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);

export function makeAuthHook(auth: Readonly<Config['auth']>) {
  const expectedBasic = auth.mode === 'basic' ? `${auth.username}:${auth.password}` : '';
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (auth.mode === 'none') return;
    const path = request.url.split('?')[0]!;
    if (OPEN_PATHS.has(path)) return;
    if (path === '/metrics' && !auth.protectMetrics) return;
    // The scheme is case-insensitive (RFC 9110, 11.1): "basic" and "BEARER" are as good.
    const [, scheme = '', credentials = ''] = /^(\S+) +(.*)$/.exec(request.headers.authorization ?? '') ?? [];
    let ok = false;
    if (auth.mode === 'basic' && scheme.toLowerCase() === 'basic') {
      const encoded = credentials.trim();
      // Compared either way, so that a malformed header takes the time a wrong one does.
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      ok = safeEqual(decoded, expectedBasic) && BASE64.test(encoded);
    } else if (auth.mode === 'bearer' && scheme.toLowerCase() === 'bearer') {
      ok = safeEqual(credentials.trim(), auth.token);
    }
    if (ok) return;
    reply.header(
      'WWW-Authenticate',
      auth.mode === 'basic' ? 'Basic realm="correlation-station", charset="UTF-8"' : 'Bearer realm="correlation-station"',
    );
    reply.code(401);
    throw Object.assign(new Error('missing or invalid credentials'), { statusCode: 401, code: 'CORR_ERR_UNAUTHORIZED' });
  };
}

/** The Authorization header a client of this correlator sends (the SIGHUP reload, `npm run demo`); undefined when auth is off. */
export function clientAuthorization(auth: Readonly<Config['auth']>): string | undefined {
  if (auth.mode === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  if (auth.mode === 'bearer') return `Bearer ${auth.token}`;
  return undefined;
}
