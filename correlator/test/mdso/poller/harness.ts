// Shared set-up for the poller tests: the simulator on port 0, a bare fastify app with the MDSO
// plugin over an in-memory (or file) database, and a recording span intake.
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { MdsoConfig } from '../../../src/config/config.js';
import { mdsoPlugin } from '../../../src/mdso/index.js';
import type { OtlpJsonTraceRequest } from '../../../src/mdso/ingest-types.js';
import { buildSimulator, type BuildSimulatorOptions } from '../../../src/mdso/simulator/app.js';

export { until } from '../../helpers/until.js';

export const SIM_USER = 'sim-user';
export const SIM_PASS = 'sim-secret-password';

export interface RunningSim {
  app: FastifyInstance;
  url: string;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  close(): Promise<void>;
}

export async function startSim(opts: BuildSimulatorOptions = {}): Promise<RunningSim> {
  const app = await buildSimulator({ credentials: { username: SIM_USER, password: SIM_PASS }, ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const url = `${opts.https ? 'https' : 'http'}://${opts.https ? 'localhost' : '127.0.0.1'}:${address.port}`;
  return {
    app,
    url,
    async admin(method, path, body) {
      const res = await app.inject({ method: method as 'GET', url: path, ...(body !== undefined ? { payload: body as object } : {}) });
      return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as unknown) : null };
    },
    close: () => app.close(),
  };
}

export function mdsoConfig(overrides: Partial<MdsoConfig> = {}): MdsoConfig {
  return {
    url: null,
    username: SIM_USER,
    password: SIM_PASS,
    tenant: 'master',
    authVariant: 'oauth2',
    products: ['charter.resourceTypes.ServiceMapper', 'charter.resourceTypes.NetworkService'],
    pollIntervalSeconds: 3600,
    pollOverlapSeconds: 120,
    caFile: null,
    requestTimeoutMs: 5000,
    pageSize: 50,
    defectCatalogPath: null,
    webhook: { url: null, format: 'slack', minIntervalSeconds: 60 },
    issueAutoResolveHours: 336,
    errorRetentionDays: 90,
    initialLookbackHours: 48,
    failedOnlyQuery: false,
    maxRetries: 3,
    ...overrides,
  };
}

export interface MdsoTestApp {
  app: FastifyInstance;
  db: Database.Database;
  registry: Registry;
  ingested: OtlpJsonTraceRequest[];
  close(): Promise<void>;
}

/** A bare app with only the MDSO plugin. `start: false` keeps the scheduled poller from running. */
export async function buildMdsoApp(
  config: MdsoConfig,
  opts: { dbPath?: string; start?: boolean; logLines?: string[] } = {},
): Promise<MdsoTestApp> {
  const db = new Database(opts.dbPath ?? ':memory:');
  db.pragma('journal_mode = WAL');
  const registry = new Registry();
  const ingested: OtlpJsonTraceRequest[] = [];
  const logLines = opts.logLines;
  const app = logLines
    ? Fastify({ logger: { level: 'trace', stream: { write: (line: string) => void logLines.push(line) } } })
    : Fastify({ logger: false });
  await app.register(mdsoPlugin, {
    config,
    db,
    registry,
    ingestTraces: async req => {
      ingested.push(req);
      const n = req.resourceSpans.reduce((a, rs) => a + rs.scopeSpans.reduce((b, ss) => b + ss.spans.length, 0), 0);
      return { accepted: n, duplicates: 0, rejected: 0, errorMessage: '' };
    },
  });
  if (opts.start !== false) await app.ready();
  return {
    app,
    db,
    registry,
    ingested,
    async close() {
      await app.close();
      db.close();
    },
  };
}

// Route answers are probed field by field in the tests; their schemas are checked by fastify itself.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function collect(app: FastifyInstance): Promise<{ status: number; json: any }> {
  const res = await app.inject({ method: 'POST', url: '/api/mdso/collect' });
  return { status: res.statusCode, json: JSON.parse(res.body) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function status(app: FastifyInstance): Promise<any> {
  const res = await app.inject({ method: 'GET', url: '/api/mdso/status' });
  if (res.statusCode !== 200) throw new Error(`status answered ${res.statusCode}: ${res.body}`);
  return JSON.parse(res.body);
}

export function errorCount(db: Database.Database): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM mdso_processed_failure').get() as { n: number }).n;
}

