// Why the server could not listen, as a start-up refusal naming PORT or HOST. node's own error
// ("listen EADDRINUSE: address already in use 0.0.0.0:8080" with a stack) names neither setting,
// and came after the store, its writer thread and the MDSO poller had started.
import { ConfigError } from './config.js';

/** A ConfigError for PORT or HOST when `e` is the setting's fault; null for anything else (a defect, kept with its stack). */
export function listenRefusal(port: number, host: string, e: unknown): ConfigError | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const detail = e instanceof Error ? `: ${e.message}` : '';
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError('PORT', `${port} is in use by another process (HOST ${host})${detail}`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new ConfigError('PORT', `${port} may not be listened on by this process (HOST ${host}; ports below 1024 need privileges)${detail}`, { cause: e });
    case 'EADDRNOTAVAIL':
      return new ConfigError('HOST', `"${host}" is not an address of this machine (PORT ${port})${detail}`, { cause: e });
    case 'EAFNOSUPPORT':
      return new ConfigError('HOST', `"${host}" is of an address family this machine does not support (PORT ${port})${detail}`, { cause: e });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'ENODATA':
      return new ConfigError('HOST', `"${host}" does not resolve to an address (PORT ${port})${detail}`, { cause: e });
    default:
      return null;
  }
}
