// A full MDSO poll of 10,000 resources against the simulator, in a child process so its memory is
// not counted: seconds and peak memory (RSS, heap) of the poller for a first full scan, an
// incremental re-poll, and a first scan with `q=orchState:failed`.
// Run: cd correlator && node --expose-gc --import tsx bench/mdso-poll.bench.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { DEFAULT_MDSO_PRODUCTS, loadConfig, type MdsoConfig } from '../src/config/config.js';
import { mdsoPlugin } from '../src/mdso/index.js';
import { figure, heading } from './lib/report.js';

const PRODUCTS = DEFAULT_MDSO_PRODUCTS;
const TOTAL = 10_000;
const PER_PRODUCT = Math.ceil(TOTAL / PRODUCTS.length);
const FAILURE_RATE = 0.2;
const PAGE_SIZE = 500;

async function startSimulator(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/mdso/simulator/server.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      ...process.env,
      MDSO_SIM_PORT: '0',
      MDSO_SIM_SEED: '42',
      MDSO_SIM_RESOURCES_PER_PRODUCT: String(PER_PRODUCT),
      MDSO_SIM_FAILURE_RATE: String(FAILURE_RATE),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', code => reject(new Error(`simulator exited with ${code}`)));
    lines.on('line', line => {
      const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolve(m[1]!);
    });
  });
  lines.on('line', () => undefined); // keep draining the request log
  return { url, child };
}

interface Peak {
  rss: number;
  heap: number;
}

async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number; peak: Peak }> {
  global.gc?.();
  const peak: Peak = { rss: 0, heap: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, 10);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  sample();
  return { result, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peak };
}

async function poller(url: string, dataDir: string, failedOnlyQuery: boolean) {
  const base = loadConfig({}).mdso;
  const config: MdsoConfig = {
    ...base,
    url,
    username: 'bench',
    password: 'bench-password',
    products: PRODUCTS,
    pageSize: PAGE_SIZE,
    pollIntervalSeconds: 86400,
    initialLookbackHours: 48,
    failedOnlyQuery,
  };
  const db = new Database(join(dataDir, `bench-${failedOnlyQuery}.db`));
  // the core store's settings (src/store/sqlite/sqlite-store.ts)
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  let spans = 0;
  const app = Fastify({ logger: false });
  await app.register(mdsoPlugin, {
    config,
    db,
    registry: new Registry(),
    ingestTraces: async req => {
      const n = req.resourceSpans.reduce((a, rs) => a + rs.scopeSpans.reduce((b, ss) => b + ss.spans.length, 0), 0);
      spans += n;
      return { accepted: n, duplicates: 0, rejected: 0, errorMessage: '' };
    },
  });
  // no app.ready(): the scheduled poll would race the measured one
  const collect = async () => {
    const res = await app.inject({ method: 'POST', url: '/api/mdso/collect' });
    if (res.statusCode !== 200) throw new Error(`collect answered ${res.statusCode}: ${res.body}`);
    return res.json() as { poll: { outcome: string; resourcesSeen: number; failuresFound: number; failuresRecorded: number } };
  };
  return {
    collect,
    spans: () => spans,
    close: async () => {
      await app.close();
      db.close();
    },
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'mdso-bench-'));
const { url, child } = await startSimulator();
try {
  heading(
    'MDSO poll',
    `${PER_PRODUCT * PRODUCTS.length} resources over ${PRODUCTS.length} products, failure rate ${FAILURE_RATE}, page size ${PAGE_SIZE}, simulator in a child process over HTTP, sqlite file store`,
  );
  const full = await poller(url, dataDir, false);
  const first = await measure(() => full.collect());
  console.log(`full scan: ${JSON.stringify(first.result.poll)}, spans ${full.spans()}`);
  figure('mdso_full_poll_seconds', first.seconds, 's');
  figure('mdso_full_poll_poller_cpu_seconds', first.cpuSeconds, 's');
  figure('mdso_full_poll_resources_per_second', first.result.poll.resourcesSeen / first.seconds, 'resources/s');
  figure('mdso_full_poll_peak_rss', first.peak.rss / 2 ** 20, 'MiB');
  figure('mdso_full_poll_peak_heap', first.peak.heap / 2 ** 20, 'MiB');
  const again = await measure(() => full.collect());
  console.log(`re-poll: ${JSON.stringify(again.result.poll)}`);
  figure('mdso_repoll_seconds', again.seconds, 's');
  figure('mdso_repoll_peak_heap', again.peak.heap / 2 ** 20, 'MiB');
  await full.close();

  const failedOnly = await poller(url, dataDir, true);
  const fo = await measure(() => failedOnly.collect());
  console.log(`failed-only scan: ${JSON.stringify(fo.result.poll)}`);
  figure('mdso_failed_only_poll_seconds', fo.seconds, 's');
  figure('mdso_failed_only_poll_peak_heap', fo.peak.heap / 2 ** 20, 'MiB');
  await failedOnly.close();
} finally {
  child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
