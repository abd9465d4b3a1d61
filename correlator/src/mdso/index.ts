// The MDSO feature as one fastify plugin (integration contract): the analysis (errors, issues,
// catalogue) always; the poller only when MDSO_URL is set.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { ConfigError, type MdsoConfig } from '../config/config.js';
import { MdsoAnalysis, mdsoAnalysisRoutes } from './analysis/index.js';
import { MdsoClient } from './client/mdso-client.js';
import { withoutCredentials } from './client/safe-url.js';
import type { IngestTraces } from './ingest-types.js';
import { MdsoPoller } from './poller/poller.js';
import { createPollMetrics } from './status/metrics.js';
import { mdsoPollerRoutes } from './status/routes.js';

export interface MdsoPluginOptions {
  config: Readonly<MdsoConfig>;
  db: Database;
  registry: Registry;
  ingestTraces: IngestTraces;
  /** injectable clock for tests */
  now?: () => number;
}

const SWEEP_INTERVAL_MS = 15 * 60_000;

/** The CA file is read once at start-up; an unreadable one stops start-up rather than weakening TLS. */
function readCa(path: string | null): Buffer | undefined {
  if (!path) return undefined;
  let ca: Buffer;
  try {
    ca = readFileSync(path);
  } catch (err) {
    throw new ConfigError('MDSO_CA_FILE', `cannot read "${path}": ${(err as Error).message}`);
  }
  checkPemCertificates(path, ca);
  return ca;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * A file that holds no certificate TLS can use is refused at start-up: taken, it showed only as a
 * TLS failure of every poll. TLS takes PEM, one certificate or a bundle.
 */
function checkPemCertificates(path: string, ca: Buffer): void {
  const blocks = ca.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0)
    throw new ConfigError('MDSO_CA_FILE', `"${path}" holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA certificate, or a bundle, in PEM`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new ConfigError('MDSO_CA_FILE', `certificate ${i + 1} of ${blocks.length} in "${path}" cannot be read: ${(err as Error).message}`);
    }
  });
}

export const mdsoPlugin: FastifyPluginAsync<MdsoPluginOptions> = async (app, opts) => {
  const { config, db, registry } = opts;
  const analysis = new MdsoAnalysis({ db, config, registry, logger: app.log, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(mdsoAnalysisRoutes, { analysis });

  let poller: MdsoPoller | null = null;
  let client: MdsoClient | null = null;
  const disabledReason = config.url ? null : 'MDSO_URL is not set';
  if (config.url) {
    let pollerRef: MdsoPoller | null = null;
    const metrics = createPollMetrics(
      registry,
      () => pollerRef?.lagSeconds() ?? null,
      () => pollerRef?.authRejectionInfo?.polls ?? 0,
    );
    const ca = readCa(config.caFile);
    client = new MdsoClient({
      baseUrl: config.url,
      username: config.username,
      password: config.password,
      tenant: config.tenant,
      authVariant: config.authVariant,
      requestTimeoutMs: config.requestTimeoutMs,
      maxRetries: config.maxRetries ?? 3,
      ...(ca ? { ca } : {}),
      onRequest: (endpoint, status) => metrics.apiRequest(endpoint, status),
      onAttemptFailed: err => pollerRef?.noteApiError(err.message),
    });
    poller = new MdsoPoller({
      client,
      db,
      recorder: analysis,
      ingestTraces: async request => {
        const outcome = await opts.ingestTraces(request);
        metrics.spansIngested(outcome);
        return outcome;
      },
      logger: app.log.child({ component: 'mdso-poller' }),
      settings: {
        products: config.products,
        pageSize: config.pageSize,
        pollIntervalSeconds: config.pollIntervalSeconds,
        pollOverlapSeconds: config.pollOverlapSeconds,
        initialLookbackHours: config.initialLookbackHours ?? 24,
        failedOnlyQuery: config.failedOnlyQuery ?? true,
      },
      onPollFinished: result => {
        metrics.observePoll((result.endedMs - result.startedMs) / 1000, result.outcome);
        safeSweep();
      },
      ...(opts.now ? { now: opts.now } : {}),
    });
    pollerRef = poller;
  }
  await app.register(mdsoPollerRoutes, { config, poller, disabledReason });

  const safeSweep = () => {
    try {
      analysis.sweep();
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'MDSO issue sweep failed');
    }
  };
  const sweepTimer = setInterval(safeSweep, SWEEP_INTERVAL_MS);
  sweepTimer.unref();

  app.addHook('onReady', async () => {
    if (poller) {
      poller.start();
      app.log.info({ url: withoutCredentials(config.url), products: config.products.length, intervalSeconds: config.pollIntervalSeconds }, 'MDSO poller started');
    } else {
      app.log.info({ reason: disabledReason }, 'MDSO poller off');
    }
  });

  app.addHook('onClose', async () => {
    clearInterval(sweepTimer);
    if (poller) await poller.stop();
    if (client) {
      await client.deleteToken();
      client.close();
    }
    await analysis.close();
  });
};

export type { IngestOutcome, IngestTraces, OtlpJsonTraceRequest } from './ingest-types.js';
