/** The URL without user:password, for logs and status (MDSO_URL may carry credentials). */
export function withoutCredentials(url: string | null): string | null {
  if (url === null) return null;
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return '<unparseable URL>';
  }
}
