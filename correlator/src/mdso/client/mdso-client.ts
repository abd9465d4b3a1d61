// MDSO REST client: token handling (oauth2 or legacy), retries with backoff and jitter, offset paging,
// TraceLog lookup. Every request reports (endpoint template, status) for the request counter; ids and
// tokens never appear in templates, errors or logs.
import { Transport, TransportError } from './transport.js';

export type AuthVariant = 'oauth2' | 'legacy';

export interface MdsoClientOptions {
  baseUrl: string;
  username: string;
  password: string;
  tenant: string;
  authVariant: AuthVariant;
  requestTimeoutMs: number;
  ca?: string | Buffer;
  /** retries after the first attempt for 5xx, network errors, timeouts and broken JSON */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  onRequest?: (endpoint: string, status: string) => void;
  /** every failed attempt, retried or not (message without secrets) */
  onAttemptFailed?: (error: MdsoError) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Resource fields the poller reads; MDSO sends more. */
export interface MdsoResource {
  id: string;
  label: string;
  resourceTypeId: string;
  orchState: string;
  reason?: string;
  properties?: Record<string, unknown>;
  createdAt?: string;
  updatedAt?: string;
  [key: string]: unknown;
}

export interface ResourcePage {
  items: MdsoResource[];
  offset: number;
  /** where the next page starts: offset + items.length */
  nextOffset: number;
  total: number;
}

export class MdsoError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'MdsoError';
  }
}

/**
 * MDSO refused the credentials (401/403 on the token request). Retrying cannot help, and a directory
 * behind MDSO (LDAP/AD) locks the account after a few failed logins: callers stop instead of retrying.
 */
export class MdsoAuthError extends MdsoError {
  constructor(message: string, endpoint: string, status: string) {
    super(message, endpoint, status, false);
    this.name = 'MdsoAuthError';
  }
}

export const ENDPOINTS = {
  oauth2Token: '/tron/api/v1/oauth2/tokens',
  oauth2TokenDelete: '/tron/api/v1/oauth2/tokens/{token}',
  legacyToken: '/tron/api/v1/tokens',
  legacyTokenDelete: '/tron/api/v1/tokens/{token}',
  resources: '/bpocore/market/api/v1/resources',
  resource: '/bpocore/market/api/v1/resources/{id}',
} as const;

export const TRACE_LOG_TYPE = 'tosca.resourceTypes.TraceLog';

const defaultSleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

export class MdsoClient {
  private readonly transport: Transport;
  private readonly base: URL;
  private token: string | null = null;
  private tokenRefreshAfterMs = 0;
  private tokenPromise: Promise<string> | null = null;
  /** A refused login, answered to every later caller without another login until clearAuthRejection(). */
  private authRejection: MdsoAuthError | null = null;
  private readonly maxRetries: number;
  private readonly retryBase: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: MdsoClientOptions) {
    this.base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
    this.transport = new Transport(opts.ca ? { ca: opts.ca } : {});
    this.maxRetries = opts.maxRetries ?? 3;
    this.retryBase = opts.retryBaseDelayMs ?? 250;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
  }

  private url(path: string, query?: Record<string, string | number | undefined>): URL {
    const u = new URL(path.replace(/^\//, ''), this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private backoff(attempt: number): number {
    // full jitter on an exponential base keeps many pollers from hammering MDSO in step
    const cap = Math.min(30_000, this.retryBase * 2 ** attempt);
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }

  /** One logical call with retries. `parse` false: the body is not read as JSON (DELETE). */
  private async call(
    method: string,
    endpoint: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
    parse = true,
  ): Promise<{ status: number; json: unknown }> {
    let lastError: MdsoError | null = null;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (attempt > 0) await this.sleep(this.backoff(attempt - 1));
      if (signal?.aborted) throw new MdsoError(`${method} ${endpoint}: aborted`, endpoint, 'aborted', false);
      let status: number;
      let text: string;
      try {
        ({ status, body: text } = await this.transport.request(method, url, headers, body, this.opts.requestTimeoutMs, signal));
      } catch (err) {
        const kind = err instanceof TransportError ? err.kind : 'network';
        this.opts.onRequest?.(endpoint, kind === 'timeout' ? 'timeout' : kind === 'aborted' ? 'aborted' : 'network_error');
        if (kind === 'aborted') throw new MdsoError(`${method} ${endpoint}: aborted`, endpoint, 'aborted', false);
        lastError = this.failed(new MdsoError(`${method} ${endpoint}: ${(err as Error).message}`, endpoint, kind === 'timeout' ? 'timeout' : 'network_error', true));
        continue;
      }
      if (status >= 500 || status === 429) {
        this.opts.onRequest?.(endpoint, String(status));
        lastError = this.failed(new MdsoError(`${method} ${endpoint}: HTTP ${status}`, endpoint, String(status), true));
        continue;
      }
      if (status >= 300) {
        this.opts.onRequest?.(endpoint, String(status));
        throw this.failed(new MdsoError(`${method} ${endpoint}: HTTP ${status}${describeFailure(text)}`, endpoint, String(status), false));
      }
      if (!parse) {
        this.opts.onRequest?.(endpoint, String(status));
        return { status, json: null };
      }
      try {
        const json: unknown = JSON.parse(text);
        this.opts.onRequest?.(endpoint, String(status));
        return { status, json };
      } catch {
        this.opts.onRequest?.(endpoint, 'invalid_json');
        lastError = this.failed(new MdsoError(`${method} ${endpoint}: HTTP ${status} with a body that is not valid JSON (${text.length} bytes)`, endpoint, 'invalid_json', true));
      }
    }
    throw lastError ?? new MdsoError(`${method} ${endpoint}: failed`, endpoint, 'unknown', false);
  }

  private failed(error: MdsoError): MdsoError {
    this.opts.onAttemptFailed?.(error);
    return error;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const { username, password, tenant } = this.opts;
    const oauth = this.opts.authVariant === 'oauth2';
    const endpoint = oauth ? ENDPOINTS.oauth2Token : ENDPOINTS.legacyToken;
    const payload = oauth ? { username, password, tenant, expires_in: 3600, grant_type: 'password' } : { username, password, tenant };
    let result: { json: unknown };
    try {
      result = await this.call('POST', endpoint, this.url(endpoint), {}, JSON.stringify(payload), signal);
    } catch (err) {
      if (err instanceof MdsoError && (err.status === '401' || err.status === '403')) {
        throw new MdsoAuthError(`MDSO rejected the credentials of user "${username}" (${endpoint} answered ${err.status})`, endpoint, err.status);
      }
      throw err;
    }
    const body = (result.json ?? {}) as Record<string, unknown>;
    const token = oauth ? body['accessToken'] : body['token'];
    if (typeof token !== 'string' || token === '') {
      throw new MdsoError(`${endpoint}: answer has no ${oauth ? 'accessToken' : 'token'} field`, endpoint, 'invalid_token_answer', false);
    }
    const expiresIn = typeof body['expiresIn'] === 'number' ? body['expiresIn'] : null;
    // Refresh a little before the announced expiry; without one, rely on 401 to tell us.
    this.tokenRefreshAfterMs = expiresIn && expiresIn > 0 ? Date.now() + expiresIn * 900 : Number.POSITIVE_INFINITY;
    return token;
  }

  private async getToken(signal?: AbortSignal): Promise<string> {
    if (this.token && Date.now() < this.tokenRefreshAfterMs) return this.token;
    if (this.authRejection) throw this.authRejection;
    // one token request at a time, shared by concurrent callers
    this.tokenPromise ??= this.fetchToken(signal)
      .then(
        t => {
          this.token = t;
          return t;
        },
        (err: unknown) => {
          if (err instanceof MdsoAuthError) this.authRejection = err;
          throw err;
        },
      )
      .finally(() => {
        this.tokenPromise = null;
      });
    return this.tokenPromise;
  }

  /** Authenticated GET; a 401 drops the cached token and retries once with a fresh one. */
  async getJson(endpoint: string, path: string, query: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<unknown> {
    for (let authAttempt = 0; ; authAttempt++) {
      const token = await this.getToken(signal);
      try {
        const { json } = await this.call('GET', endpoint, this.url(path, query), { authorization: `Bearer ${token}` }, undefined, signal);
        return json;
      } catch (err) {
        if (err instanceof MdsoError && err.status === '401' && authAttempt === 0) {
          if (this.token === token) this.token = null;
          continue;
        }
        throw err;
      }
    }
  }

  /** One page of `GET /resources`. */
  async resourcePage(
    query: { resourceTypeId?: string; q?: string; p?: string },
    offset: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<ResourcePage> {
    const json = await this.getJson(ENDPOINTS.resources, ENDPOINTS.resources, { ...query, offset, limit }, signal);
    const body = json as { items?: unknown; total?: unknown };
    if (!body || !Array.isArray(body.items) || typeof body.total !== 'number') {
      throw new MdsoError(`GET ${ENDPOINTS.resources}: answer is not an {items, total} page`, ENDPOINTS.resources, 'invalid_page', true);
    }
    const items = body.items.filter(isResource);
    if (items.length === 0 && offset < body.total) {
      throw new MdsoError(`GET ${ENDPOINTS.resources}: empty page at offset ${offset} although total is ${body.total}`, ENDPOINTS.resources, 'empty_page', true);
    }
    return { items, offset, nextOffset: offset + body.items.length, total: body.total };
  }

  /**
   * Pages from `startOffset` to the end (`offset + items.length >= total`). With `overlap` > 0 each
   * request starts that many items before the end of the previous page: if items before the offset
   * leave the list between two requests (offset paging under concurrent change), the next page still
   * starts no later than the first unseen item. The caller drops the repeated items by id.
   */
  async *resourcePages(
    query: { resourceTypeId?: string; q?: string; p?: string },
    startOffset: number,
    pageSize: number,
    signal?: AbortSignal,
    overlap = 0,
  ): AsyncGenerator<ResourcePage> {
    let offset = startOffset;
    for (;;) {
      const page = await this.resourcePage(query, offset, pageSize, signal);
      yield page;
      if (page.nextOffset >= page.total || page.items.length === 0) return;
      // always move forward by at least half a page, whatever the overlap and however short the page
      offset += Math.max(page.nextOffset - offset - overlap, Math.ceil((page.nextOffset - offset) / 2));
    }
  }

  /**
   * TraceLogs of a resource: by `origination_id` (META's way), else by label (older TraceLogs have no
   * origination_id).
   */
  async findTraceLogs(resourceId: string, label: string, signal?: AbortSignal): Promise<MdsoResource[]> {
    const byOrigin = await this.resourcePage({ resourceTypeId: TRACE_LOG_TYPE, q: `properties.origination_id:${resourceId}` }, 0, 10, signal);
    if (byOrigin.items.length > 0) return byOrigin.items;
    const traceLabel = `${label}.orch_trace`;
    const byLabel = await this.resourcePage({ resourceTypeId: TRACE_LOG_TYPE, p: `label:${traceLabel}` }, 0, 10, signal);
    // `p` is a substring match: keep only the exact label
    return byLabel.items.filter(i => i.label === traceLabel);
  }

  /** Deletes the cached token (shutdown). Errors are reported, not thrown: MDSO expires it anyway. */
  async deleteToken(): Promise<boolean> {
    const token = this.token;
    if (!token) return false;
    this.token = null;
    const endpoint = this.opts.authVariant === 'oauth2' ? ENDPOINTS.oauth2TokenDelete : ENDPOINTS.legacyTokenDelete;
    const path = endpoint.replace('{token}', encodeURIComponent(token));
    try {
      await this.call('DELETE', endpoint, this.url(path), { authorization: `Bearer ${token}` }, undefined, undefined, false);
      return true;
    } catch {
      return false;
    }
  }

  /** The refused login, if one was refused since the last clearAuthRejection(). */
  get authRejected(): MdsoAuthError | null {
    return this.authRejection;
  }

  /** Allows one more login attempt (the poller calls it when a poll starts). */
  clearAuthRejection(): void {
    this.authRejection = null;
  }

  hasToken(): boolean {
    return this.token !== null;
  }

  close(): void {
    this.transport.close();
  }
}

function isResource(v: unknown): v is MdsoResource {
  const r = v as MdsoResource;
  return !!r && typeof r === 'object' && typeof r.id === 'string' && typeof r.resourceTypeId === 'string';
}

/** A short hint from MDSO's error body (`failureInfo.reason` or api-gw `errors[0].msg_code`). */
function describeFailure(text: string): string {
  try {
    const body = JSON.parse(text) as { failureInfo?: { reason?: unknown }; errors?: Array<{ msg_code?: unknown }> };
    const code = body.errors?.[0]?.msg_code;
    if (typeof code === 'string') return ` (${code})`;
    const reason = body.failureInfo?.reason;
    if (typeof reason === 'string') return ` (${reason.slice(0, 200)})`;
  } catch {
    // not JSON: say nothing
  }
  return '';
}
