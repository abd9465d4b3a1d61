// The MDSO simulator as a fastify plugin (mdso-api.md §7). Only server.ts listens; tests build it and
// listen on port 0.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import { PRODUCT_TYPES, productByType } from './catalog.js';
import { NO_FAULTS, validateFaultPatch, type Faults } from './faults.js';
import { DEFAULT_ERROR_MIX, type ErrorMix } from './error-library.js';
import { applyFailure, createContext, createProductResource, generateDataset, type SimContext } from './generator.js';
import { matchesExact, parseClauses, QueryError } from './query.js';
import type { SimResource } from './resource.js';
import { ResourceStore, type ResourceFilter } from './store.js';
import { registerWriteRoutes, settle, type PendingActivation, type SimOperation } from './writes.js';

export interface SimulatorOptions {
  seed?: number;
  resourcesPerProduct?: number;
  failureRate?: number;
  tokenTtlSeconds?: number;
  /** generated history ends here; default: now */
  anchorMs?: number;
  spanHours?: number;
  /** resource types to generate (default: all simulated products) */
  products?: readonly string[];
  errorMix?: ErrorMix;
  faults?: Partial<Faults>;
  /** accepted credentials; when absent any non-empty username/password pair is accepted */
  credentials?: { username: string; password: string };
  now?: () => number;
}

export interface SimulatorStats {
  apiCalls: number;
  tokensIssued: number;
  tokensDeleted: number;
  activeTokens: number;
  /** "METHOD /route/template" → status → count */
  calls: Record<string, Record<string, number>>;
}

const MARKET = '/bpocore/market/api/v1';
const DEFAULT_LIMIT = 1000;

interface TokenEntry {
  expiresAtMs: number;
}

function apiGwUnauthorized(path: string) {
  return {
    errors: [
      {
        app: 'api-gw',
        msg_code: 'bpapigw-300',
        msg: `Cannot authorize access to resource: ${path}. The path is RESTRICTED and the user UNKNOWN`,
        http_path: path,
      },
    ],
    failureInfo: { reason: 'Cannot authorize access to resource' },
  };
}

function failureInfo(reason: string) {
  return { failureInfo: { reason } };
}

function isApiPath(url: string): boolean {
  return url.startsWith('/tron/') || url.startsWith('/bpocore/');
}

function nonNegInt(raw: unknown, name: string, def: number): number {
  if (raw === undefined || raw === '') return def;
  const s = String(raw);
  if (!/^\d+$/.test(s)) throw new QueryError(`${name} must be a non-negative integer, got "${s}"`);
  return Number(s);
}

function str(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw !== '' ? raw : undefined;
}

/** Properties the resource types flag as secret: served as `*` unless `obfuscate=false` (§2.2). */
const OBFUSCATED_PROPERTIES = ['server_password'];

function obfuscated(r: SimResource, obfuscate: unknown): SimResource {
  if (obfuscate === 'false' || !OBFUSCATED_PROPERTIES.some(k => k in r.properties)) return r;
  const properties = { ...r.properties };
  for (const k of OBFUSCATED_PROPERTIES) if (k in properties) properties[k] = '**********';
  return { ...r, properties };
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodePageToken(token: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // fall through
  }
  throw new QueryError(`pageToken "${token}" is not a valid page token`);
}

export class SimulatorState {
  readonly ctx: SimContext;
  readonly store: ResourceStore;
  faults: Faults;
  readonly tokens = new Map<string, TokenEntry>();
  readonly stats: SimulatorStats = { apiCalls: 0, tokensIssued: 0, tokensDeleted: 0, activeTokens: 0, calls: {} };
  readonly now: () => number;
  readonly tokenTtlSeconds: number;
  readonly errorMix: ErrorMix;
  /** resources created through the API, on their way to active or failed */
  readonly pending = new Map<string, PendingActivation>();
  /** custom operations by resource id */
  readonly operations = new Map<string, SimOperation[]>();

  constructor(readonly opts: SimulatorOptions) {
    this.now = opts.now ?? Date.now;
    this.ctx = createContext(opts.seed ?? 42);
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 3600;
    this.errorMix = opts.errorMix ?? DEFAULT_ERROR_MIX;
    this.faults = { ...NO_FAULTS, ...opts.faults };
    const dataset = generateDataset(this.ctx, {
      seed: opts.seed ?? 42,
      resourcesPerProduct: opts.resourcesPerProduct ?? 200,
      failureRate: opts.failureRate ?? 0.2,
      anchorMs: opts.anchorMs ?? this.now(),
      spanHours: opts.spanHours ?? 24,
      errorMix: this.errorMix,
      ...(opts.products ? { products: opts.products } : {}),
    });
    this.store = new ResourceStore(dataset);
  }

  countCall(key: string, status: number): void {
    const byStatus = (this.stats.calls[key] ??= {});
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
  }

  issueToken(requestedTtl: unknown): { token: string; ttl: number } {
    const ttl = typeof requestedTtl === 'number' && requestedTtl > 0 ? Math.min(requestedTtl, this.tokenTtlSeconds) : this.tokenTtlSeconds;
    const token = randomBytes(10).toString('hex');
    this.tokens.set(token, { expiresAtMs: this.now() + ttl * 1000 });
    this.stats.tokensIssued++;
    return { token, ttl };
  }

  /** Adds a product resource created now; failed ones get a reason and a TraceLog as usual. */
  addResource(resourceTypeId: string, failed: boolean): { resource: SimResource; traceLog: SimResource | null; child: SimResource | null } {
    const product = productByType(resourceTypeId);
    if (!product) throw new QueryError(`resourceTypeId must be one of ${PRODUCT_TYPES.map(p => p.resourceTypeId).join(', ')}`);
    const now = this.now();
    const resource = createProductResource(this.ctx, product, now);
    resource.updatedAt = new Date(now).toISOString();
    if (!failed) {
      this.store.add(resource);
      return { resource, traceLog: null, child: null };
    }
    const { traceLog, child } = applyFailure(this.ctx, resource, product, { endMs: now }, this.errorMix);
    this.store.add(resource);
    for (const extra of [child, traceLog]) {
      if (extra) {
        this.store.add(extra);
        this.store.link(resource.id, extra.id);
      }
    }
    return { resource, traceLog, child };
  }

  failResource(id: string): { resource: SimResource; traceLog: SimResource | null } | 'not-found' | 'not-product' | 'already-failed' {
    const resource = this.store.get(id);
    if (!resource) return 'not-found';
    const product = productByType(resource.resourceTypeId);
    if (!product) return 'not-product';
    if (resource.orchState === 'failed') return 'already-failed';
    const createdAt = resource.createdAt;
    const { traceLog, child } = applyFailure(this.ctx, resource, product, { endMs: this.now() }, this.errorMix);
    resource.createdAt = createdAt; // the resource existed before; only its orchestration is new
    for (const extra of [child, traceLog]) {
      if (extra) {
        this.store.add(extra);
        this.store.link(resource.id, extra.id);
      }
    }
    return { resource, traceLog };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    simCallKey?: string;
  }
}

export const mdsoSimulatorPlugin: FastifyPluginAsync<SimulatorOptions & { state?: SimulatorState }> = async (app, opts) => {
  const state = opts.state ?? new SimulatorState(opts);

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!isApiPath(path)) return;
    state.stats.apiCalls++;
    settle(state);
    const f = state.faults;
    if (f.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, f.latencyMs));
    let fail = false;
    if (f.failAfterCalls !== null) {
      if (f.failAfterCalls === 0) fail = true;
      else f.failAfterCalls--;
    }
    if (fail) {
      // already failing
    } else if (f.errorNext > 0) {
      f.errorNext--;
      fail = true;
    } else if (f.errorEvery > 0 && state.stats.apiCalls % f.errorEvery === 0) {
      fail = true;
    }
    if (fail) {
      return reply.code(f.errorStatus).send(failureInfo(`Service is not able to handle request (injected ${f.errorStatus})`));
    }
  });

  // Only successful answers are broken: a client reads error bodies as hints at most.
  app.addHook('onSend', async (request, reply, payload) => {
    const path = request.url.split('?')[0] ?? '';
    if (!isApiPath(path) || reply.statusCode >= 300 || state.faults.malformedJsonNext <= 0 || typeof payload !== 'string' || payload.length === 0) return payload;
    state.faults.malformedJsonNext--;
    return payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
  });

  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!isApiPath(path)) return;
    const template = request.routeOptions.url ?? 'unmatched';
    state.countCall(`${request.method} ${template}`, reply.statusCode);
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    if (err instanceof QueryError) return reply.code(400).send(failureInfo(err.message));
    return reply.code(err.statusCode ?? 500).send(failureInfo(err.message));
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const match = /^(Bearer|token)\s+(\S+)$/i.exec(header);
    const path = request.url.split('?')[0] ?? '';
    const entry = match ? state.tokens.get(match[2]!) : undefined;
    if (!match || !entry || entry.expiresAtMs <= state.now()) {
      if (match && entry) state.tokens.delete(match[2]!);
      return reply.code(401).send(apiGwUnauthorized(path));
    }
    const f = state.faults;
    if (f.expireTokensAfterCalls !== null) {
      if (f.expireTokensAfterCalls === 0) {
        state.tokens.clear();
        f.expireTokensAfterCalls = null;
        return reply.code(401).send(apiGwUnauthorized(path));
      }
      f.expireTokensAfterCalls--;
    }
  };

  const checkCredentials = (body: unknown): boolean => {
    if (state.faults.refuseTokens) return false;
    const b = (body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof b.username !== 'string' || typeof b.password !== 'string' || !b.username || !b.password) return false;
    return !opts.credentials || (opts.credentials.username === b.username && opts.credentials.password === b.password);
  };

  app.post('/tron/api/v1/oauth2/tokens', async (request, reply) => {
    if (!checkCredentials(request.body)) return reply.code(state.faults.refuseTokens || 401).send(failureInfo('Invalid username or password'));
    const { token, ttl } = state.issueToken((request.body as { expires_in?: unknown }).expires_in);
    return reply.code(201).send({ accessToken: token, expiresIn: ttl, tokenType: 'bearer', isSuccessful: true });
  });

  app.post('/tron/api/v1/tokens', async (request, reply) => {
    if (!checkCredentials(request.body)) return reply.code(state.faults.refuseTokens || 401).send(failureInfo('Invalid username or password'));
    const { token, ttl } = state.issueToken(undefined);
    return reply.code(201).send({ token, expiresIn: ttl, isSuccessful: true });
  });

  const deleteToken = async (request: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply) => {
    if (state.tokens.delete(request.params.token)) state.stats.tokensDeleted++;
    return reply.code(204).send();
  };
  app.delete('/tron/api/v1/oauth2/tokens/:token', deleteToken);
  app.delete('/tron/api/v1/tokens/:token', deleteToken);

  type Query = Record<string, string | undefined>;

  const filterFrom = (q: Query): ResourceFilter => {
    const f: ResourceFilter = {};
    for (const key of ['resourceTypeId', 'exactTypeId', 'q', 'p', 'domainId', 'providerResourceId'] as const) {
      const v = str(q[key]);
      if (v !== undefined) f[key] = v;
    }
    return f;
  };

  app.get(`${MARKET}/resources`, { preHandler: authenticate }, async request => {
    const q = request.query as Query;
    const offset = nonNegInt(q['offset'], 'offset', 0);
    const limit = nonNegInt(q['limit'], 'limit', DEFAULT_LIMIT);
    const all = state.store.search(filterFrom(q));
    if (limit === 0) return { items: [], total: all.length, offset, limit };
    // A list that grows at the front while it is paged: from the k-th page on, k new items sit
    // before the offset, so each page repeats the previous page's last item and `total` grows. It is
    // consistent with offset paging (nothing is lost) and combines with truncation.
    const shift = state.faults.duplicateAcrossPages && limit > 0 ? Math.floor(offset / limit) : 0;
    const start = offset - shift;
    let items = all.slice(start, start + limit);
    if (state.faults.truncatePages && items.length > 1) items = items.slice(0, Math.ceil(items.length / 2));
    return { items: items.map(r => obfuscated(r, q['obfuscate'])), total: all.length + shift, offset, limit };
  });

  app.get(`${MARKET}/resources/count`, { preHandler: authenticate }, async request => {
    return { count: state.store.search(filterFrom(request.query as Query)).length };
  });

  app.get(`${MARKET}/resources/:id`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const r = state.store.get(id);
    if (!r) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    return obfuscated(r, (request.query as Query)['obfuscate']);
  });

  const relations = (direction: 'dependencies' | 'dependents') => async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    if (!state.store.get(id)) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    const q = request.query as Query;
    const recursive = q['recursive'] === 'true';
    const limit = nonNegInt(q['limit'], 'limit', 2000);
    const pageToken = str(q['pageToken']);
    const offset = pageToken ? decodePageToken(pageToken) : nonNegInt(q['offset'], 'offset', 0);
    const related = direction === 'dependencies' ? state.store.dependenciesOf(id, recursive) : state.store.dependentsOf(id, recursive);
    const filter = filterFrom(q);
    const filtered = filter.q || filter.p || filter.resourceTypeId || filter.exactTypeId ? intersect(related, state.store.search(filter)) : related;
    const items = limit === 0 ? [] : filtered.slice(offset, offset + limit);
    const more = limit > 0 && offset + items.length < filtered.length;
    // The last page repeats the token it was asked with (observed MDSO behaviour, §2.3).
    const nextPageToken = more ? encodePageToken(offset + items.length) : pageToken;
    return { items, total: filtered.length, offset, limit, ...(nextPageToken ? { nextPageToken } : {}) };
  };
  app.get(`${MARKET}/resources/:id/dependencies`, { preHandler: authenticate }, relations('dependencies'));
  app.get(`${MARKET}/resources/:id/dependents`, { preHandler: authenticate }, relations('dependents'));

  const productList = () =>
    [...state.ctx.productIds.entries()].map(([resourceTypeId, id]) => {
      const short = resourceTypeId.split('.').pop() ?? resourceTypeId;
      return {
        id,
        resourceTypeId,
        title: short,
        description: `${short} product`,
        active: true,
        domainId: 'built-in',
        constraints: {},
        providerData: { template: `charter.serviceTemplates.${short}` },
      };
    });

  registerWriteRoutes(app, state, authenticate);

  app.get(`${MARKET}/products`, { preHandler: authenticate }, async request => {
    const q = request.query as Query;
    const offset = nonNegInt(q['offset'], 'offset', 0);
    const limit = nonNegInt(q['limit'], 'limit', DEFAULT_LIMIT);
    const clauses = parseClauses(str(q['q']), 'q');
    const all = productList().filter(p => matchesExact(p, clauses));
    return { items: limit === 0 ? [] : all.slice(offset, offset + limit), total: all.length, offset, limit };
  });

  app.get(`${MARKET}/products/:id`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const p = productList().find(x => x.id === id);
    if (!p) return reply.code(404).send(failureInfo(`Product ${id} not found`));
    return p;
  });

  // ---- test administration (no auth, no faults) ----
  app.get('/__sim/faults', async () => state.faults);
  app.post('/__sim/faults', async (request, reply) => {
    const problem = validateFaultPatch(request.body);
    if (problem) return reply.code(400).send(failureInfo(problem));
    state.faults = { ...state.faults, ...(request.body as Partial<Faults>) };
    return state.faults;
  });
  app.delete('/__sim/faults', async () => {
    state.faults = { ...NO_FAULTS };
    return state.faults;
  });
  app.get('/__sim/stats', async () => ({ ...state.stats, activeTokens: state.tokens.size }));
  app.delete('/__sim/stats', async (_request, reply) => {
    state.stats.apiCalls = 0;
    state.stats.tokensIssued = 0;
    state.stats.tokensDeleted = 0;
    state.stats.calls = {};
    return reply.code(204).send();
  });
  app.post('/__sim/resources', async (request, reply) => {
    const body = (request.body ?? {}) as { resourceTypeId?: unknown; failed?: unknown };
    if (typeof body.resourceTypeId !== 'string') return reply.code(400).send(failureInfo('resourceTypeId (string) is required'));
    if (body.failed !== undefined && typeof body.failed !== 'boolean') return reply.code(400).send(failureInfo('failed must be a boolean'));
    return reply.code(201).send(state.addResource(body.resourceTypeId, body.failed === true));
  });
  // A plan writing observed properties: updatedAt and revision move, the orchestration does not.
  app.post('/__sim/resources/:id/touch', async (request, reply) => {
    const { id } = request.params as { id: string };
    const r = state.store.get(id);
    if (!r) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    r.updatedAt = new Date(state.now()).toISOString();
    r.revision = state.ctx.nextRevision();
    r.updateCount++;
    return r;
  });
  app.post('/__sim/resources/:id/fail', async (request, reply) => {
    const { id } = request.params as { id: string };
    const result = state.failResource(id);
    if (result === 'not-found') return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    if (result === 'not-product') return reply.code(400).send(failureInfo(`Resource ${id} is not a simulated product resource`));
    if (result === 'already-failed') return reply.code(409).send(failureInfo(`Resource ${id} has already failed`));
    return result;
  });
};

function intersect(a: SimResource[], b: SimResource[]): SimResource[] {
  const ids = new Set(b.map(r => r.id));
  return a.filter(r => ids.has(r.id));
}

declare module 'fastify' {
  interface FastifyInstance {
    mdsoSim: SimulatorState;
  }
}

export interface BuildSimulatorOptions extends SimulatorOptions {
  https?: { key: string | Buffer; cert: string | Buffer };
  logger?: boolean;
}

/** A ready-to-listen simulator app; `app.mdsoSim` exposes its state to tests. */
export async function buildSimulator(opts: BuildSimulatorOptions = {}): Promise<FastifyInstance> {
  const { https, logger, ...simOpts } = opts;
  const app = (https ? Fastify({ https, logger: logger ?? false }) : Fastify({ logger: logger ?? false })) as unknown as FastifyInstance;
  const state = new SimulatorState(simOpts);
  app.decorate('mdsoSim', state);
  await app.register(mdsoSimulatorPlugin, { ...simOpts, state });
  return app;
}
