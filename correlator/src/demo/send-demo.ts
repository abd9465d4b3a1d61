// What `npm run demo` does: sends the demo circuits to a running correlator, with the credentials
// that correlator asks for, taken from the same settings (AUTH_MODE, AUTH_USERNAME/AUTH_PASSWORD or
// BASIC_AUTH_USER/BASIC_AUTH_PASS, AUTH_TOKEN) or from user:password in the URL.
import { clientAuthorization } from '../api/auth.js';
import type { Config } from '../config/config.js';
import { buildDemoCircuit } from './demo-circuit.js';

export interface DemoTarget {
  /** Without user:password: it is printed. */
  url: string;
  authorization?: string;
}

/**
 * fetch() refuses a URL with user:password in it, with an error that quotes the URL and so the
 * password: they are taken out here and sent as basic credentials instead.
 */
export function demoTarget(rawUrl: string, auth: Readonly<Config['auth']>): DemoTarget {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    throw new Error('the correlator URL is not a valid URL (not shown, as it may hold a password)');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`the correlator URL must be http or https, got "${u.protocol}"`);
  let authorization = clientAuthorization(auth);
  if (u.username !== '' || u.password !== '') {
    if (authorization !== undefined) {
      throw new Error(`credentials are given both in the URL and in the ${auth.mode} auth settings; give them once`);
    }
    authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u.toString().replace(/\/+$/, ''), ...(authorization !== undefined ? { authorization } : {}) };
}

export async function sendDemo(target: DemoTarget, log: (line: string) => void, fetchImpl: typeof fetch = fetch): Promise<void> {
  const now = Date.now();
  const circuits = [buildDemoCircuit('80.L1XX.005054..CHTR', now - 60_000), buildDemoCircuit('81.L1XX.000731..TWCC', now - 30_000, true)];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.authorization !== undefined) headers.authorization = target.authorization;
  for (const c of circuits) {
    for (const [path, body] of [
      ['/v1/traces', c.traceRequest],
      ['/v1/logs', c.logRequest],
    ] as const) {
      const res = await fetchImpl(`${target.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status === 401) {
        throw new Error(
          `${path} answered 401: ${target.authorization === undefined ? 'the correlator asks for credentials; give' : 'the credentials were refused; check'} ` +
            'them as for the correlator (AUTH_MODE with AUTH_USERNAME and AUTH_PASSWORD, BASIC_AUTH_USER and BASIC_AUTH_PASS, or AUTH_TOKEN) or as user:password in the URL',
        );
      }
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    }
    log(`demo circuit ${c.circuitId}: ${target.url}/api/circuits/${encodeURIComponent(c.circuitId)}/trace`);
  }
}
