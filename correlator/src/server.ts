// The only place that listens. Reads config once; an invalid setting stops start-up with a
// message naming it, exit code 2, whether loadConfig refused it, a plugin found it unusable
// while starting (an unreadable MDSO_CA_FILE, a DEFECT_CATALOG that does not parse) or the
// server could not listen as PORT and HOST say (a port in use, an address not this machine's).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { clientAuthorization } from './api/auth.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, redactConfig } from './config/config.js';
import { listenRefusal } from './config/listen-refusal.js';
import { HttpDrain, type DrainBounds } from './runtime/drain.js';
import { operatorDirectory } from './runtime/operator-directory.js';

/**
 * On SIGTERM/SIGINT: a second for connections accepted to send their request, five for every
 * request to be answered; then the store closes. A usual stop, even with a stuck client, ends
 * within Docker's default 10 s before SIGKILL; the force-exit timer is the backstop.
 */
const DRAIN: DrainBounds = { idleGraceMs: 1_000, deadlineMs: 5_000 };
const FORCE_EXIT_MS = DRAIN.deadlineMs + 10_000;

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(): Promise<void> {
  const operatorDir = operatorDirectory(process.env);
  if (operatorDir !== null && operatorDir !== process.cwd()) process.chdir(operatorDir);
  const config = loadConfig(process.env, pkg.version);
  const app = await buildApp({ config });
  const dataDirPath = config.dataDir === ':memory:' ? config.dataDir : resolve(config.dataDir);
  app.log.info({ config: redactConfig(config), dataDirPath }, 'configuration');
  const drain = new HttpDrain(app.server);
  let closing = false;
  // The requests in flight are answered before the store closes (see runtime/drain.ts); the
  // deadline bounds that, and the force-exit timer bounds the whole, closing the store included.
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal, drainDeadlineMs: DRAIN.deadlineMs }, 'shutting down: no new connections, answering the requests in flight');
    const force = setTimeout(() => {
      app.log.error({ afterMs: FORCE_EXIT_MS }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, FORCE_EXIT_MS);
    force.unref();
    drain
      .drain(DRAIN)
      .then(outcome => {
        if (outcome.cut > 0) app.log.warn(outcome, `${outcome.cut} connections were still open at the drain deadline and were cut`);
        else app.log.info(outcome, 'drained: every request in flight answered');
        return app.close();
      })
      .then(
        () => process.exit(0),
        (e: unknown) => {
          app.log.error({ err: e }, 'error while closing');
          process.exit(1);
        },
      );
  };
  // SIGHUP re-reads the defect catalogue through the same route an operator would call; a file
  // that does not parse is refused and the active catalogue stays.
  process.on('SIGHUP', () => {
    const authorization = clientAuthorization(config.auth);
    const headers: Record<string, string> = authorization ? { authorization } : {};
    app.inject({ method: 'POST', url: '/api/mdso/defects/reload', headers }).then(
      res => app.log.info({ status: res.statusCode, result: res.json() as unknown }, 'defect catalogue reload (SIGHUP)'),
      (e: unknown) => app.log.error({ err: e }, 'defect catalogue reload failed'),
    );
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (e) {
    // A port in use or a HOST that is not this machine's is a setting to fix, refused as one (exit
    // 2, one line). What started before (store, writer thread, MDSO poller) is closed first.
    await app.close().catch((closeError: unknown) => app.log.error({ err: closeError }, 'error while closing after listen failed'));
    throw listenRefusal(config.port, config.host, e) ?? e;
  }
}

/** fastify's plugin loader may wrap what a plugin threw, so the cause chain is searched too. */
function configErrorIn(e: unknown): ConfigError | null {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 8; cur = cur.cause, depth++) {
    if (cur instanceof ConfigError) return cur;
  }
  return null;
}

main().catch((e: unknown) => {
  const configError = configErrorIn(e);
  if (configError) {
    console.error(`correlator: ${configError.message}`);
    process.exit(2);
  }
  console.error('correlator failed to start:', e);
  process.exit(1);
});
