// The one helper for showing a configured URL (MDSO_URL, TEMPO_OTLP_ENDPOINT) in logs and status:
// gateways take credentials as user:password@, as query parameters (?api_key=, ?token=) or in a
// #fragment, so all three are hidden. The URL used for requests is never passed through this.

const HIDDEN = '<hidden>';

/** Query parameter names are kept (they say what was configured); values, and bare entries, are not. */
function hiddenQuery(search: string): string {
  if (search === '') return '';
  const parts = search
    .slice(1)
    .split('&')
    .map(part => {
      const eq = part.indexOf('=');
      return eq < 0 ? HIDDEN : `${part.slice(0, eq)}=${HIDDEN}`;
    });
  return `?${parts.join('&')}`;
}

/** The URL with user:password, query values and the fragment replaced by "<hidden>". */
export function withoutCredentials(url: string | null): string | null {
  if (url === null) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '<unparseable URL>';
  }
  const userinfo = u.username !== '' || u.password !== '';
  if (!userinfo && u.search === '' && u.hash === '') return url;
  // Built by hand: URL's setters would percent-encode the placeholder.
  const path = u.pathname === '/' && !url.toLowerCase().includes(`${u.host}/`) ? '' : u.pathname;
  return `${u.protocol}//${userinfo ? `${HIDDEN}@` : ''}${u.host}${path}${hiddenQuery(u.search)}${u.hash === '' ? '' : `#${HIDDEN}`}`;
}

/**
 * withoutCredentials for text that may not parse as a URL, as a refusal of it quotes it: the
 * user:password before the host, query values and the fragment, found by where they stand. The
 * user:password goes first, up to the last "@" however far: in text that does not parse, a password
 * may hold "/", "?" or "#", and cutting the fragment or query first quoted the password's start
 * (`https://svc:Pa55word#2026@mdso` was shown as `https://svc:Pa55word#<hidden>`).
 */
export function textWithoutCredentials(text: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text)?.[0] ?? '';
  let rest = text.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const query = q < 0 ? '' : hiddenQuery(rest.slice(q));
  if (q >= 0) rest = rest.slice(0, q);
  return `${scheme}${at >= 0 ? `${HIDDEN}@` : ''}${rest}${query}${hash < 0 ? '' : `#${HIDDEN}`}`;
}
