// One HTTP exchange with MDSO over node:http/https. TLS verification always stays on; a private CA
// (MDSO's self-signed certificates) is trusted through `ca`, never by switching verification off.
import http from 'node:http';
import https from 'node:https';

export interface TransportOptions {
  /** PEM of extra trusted CAs (MDSO_CA_FILE) */
  ca?: string | Buffer;
  maxSockets?: number;
}

export interface RawResponse {
  status: number;
  body: string;
}

export class TransportError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'aborted',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export class Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(opts: TransportOptions = {}) {
    const maxSockets = opts.maxSockets ?? 8;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets, ...(opts.ca ? { ca: opts.ca } : {}) });
  }

  request(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new TransportError('request aborted', 'aborted'));
        return;
      }
      const isHttps = url.protocol === 'https:';
      const lib = isHttps ? https : http;
      const finalHeaders: Record<string, string> = { accept: 'application/json', ...headers };
      if (body !== undefined) {
        finalHeaders['content-type'] = 'application/json';
        finalHeaders['content-length'] = String(Buffer.byteLength(body));
      }
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const req = lib.request(url, { method, headers: finalHeaders, agent: isHttps ? this.httpsAgent : this.httpAgent }, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', err => finish(() => reject(new TransportError(`response failed: ${err.message}`, 'network'))));
      });
      // The timeout covers the whole exchange, body included, not only socket idleness.
      const timer = setTimeout(() => {
        finish(() => reject(new TransportError(`no complete answer within ${timeoutMs} ms`, 'timeout')));
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        finish(() => reject(new TransportError('request aborted', 'aborted')));
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', err => finish(() => reject(new TransportError(err.message, 'network'))));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
