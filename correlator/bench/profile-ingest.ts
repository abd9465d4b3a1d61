// Not a benchmark: an in-process ingest loop for CPU profiles (node --cpu-prof --import tsx bench/profile-ingest.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { makeTemplates, variantBody } from './lib/otlp-payloads.js';

const N = Number(process.env.N ?? 600);
const CONC = Number(process.env.CONC ?? 4);
const dataDir = mkdtempSync(join(tmpdir(), 'cs-prof-'));
const app = await buildApp({ config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', STORE_WRITER_THREAD: process.env.STORE_WRITER_THREAD ?? 'true' }) });
const templates = makeTemplates(16, { seed: 1, baseMs: Date.now() - 3_600_000, spansPerRequest: 512, tracesPerCircuit: 5, resourceTypeAttribute: true });
const bodies = Array.from({ length: N }, (_, i) => variantBody(templates[i % 16]!, i));
const p = app.correlator.pipeline;
for (let i = 0; i < 40; i++) await p.tracesFromProtobuf(bodies[i]!);
const t0 = performance.now();
let spans = 0;
let next = 40;
async function worker() {
  while (next < N) {
    const b = bodies[next++]!;
    const r = await p.tracesFromProtobuf(b);
    spans += r.accepted;
  }
}
await Promise.all(Array.from({ length: CONC }, worker));
const s = (performance.now() - t0) / 1000;
console.log(`${spans} spans in ${s.toFixed(2)} s = ${(spans / s).toFixed(0)} spans/s`);
await app.close();
rmSync(dataDir, { recursive: true, force: true });
