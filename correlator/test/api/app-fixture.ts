import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

/** Builds the app on a fresh data directory; closes it and removes the directory after the test. */
export async function buildTestApp(t: TestContext, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'corr-api-'));
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, ...env }) });
  await app.ready();
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return app;
}

/** Posts an OTLP protobuf body, or a JSON one, and fails the test unless it is accepted (200). */
export async function postAccepted(app: FastifyInstance, url: string, payload: Buffer | object): Promise<void> {
  const protobuf = Buffer.isBuffer(payload);
  const res = await app.inject({ method: 'POST', url, payload, ...(protobuf ? { headers: { 'content-type': 'application/x-protobuf' } } : {}) });
  if (res.statusCode !== 200) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`);
}
