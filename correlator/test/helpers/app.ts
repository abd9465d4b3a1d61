// Builds the correlator app in-process on a throw-away DATA_DIR. Everything it creates is closed
// and removed when the test ends, pass or fail.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

/** The app with LOG_LEVEL=silent on a temp DATA_DIR; `env` overrides any setting. */
export async function build(t: TestContext, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const dataDir = await mkdtemp(join(tmpdir(), 'corr-app-'));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  let app: FastifyInstance;
  try {
    app = await buildApp({ config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env }) });
  } catch (e) {
    await removeDir();
    throw e;
  }
  // One hook, so the store is closed before its files are removed whatever order hooks run in.
  t.after(async () => {
    try {
      await app.close();
    } finally {
      await removeDir();
    }
  });
  return app;
}

/** The app listening on an ephemeral port of 127.0.0.1; returns its base URL. */
export async function listen(t: TestContext, env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await build(t, env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}` };
}
