// The ingest load generator, run as a child process of ingest.bench.ts so the server process does
// nothing but serve. It prepares every request body before the timed phase (the same deterministic
// templates as the parent, then distinct variants, gzipped when asked), then keeps `connections`
// requests in flight over keep-alive connections and reports what it saw.
import { request, Agent } from 'node:http';
import { gzipSync } from 'node:zlib';
import { makeTemplates, variantBody, type TemplateOptions } from './otlp-payloads.js';

export interface LoadJob {
  url: string;
  templates: number;
  templateOptions: TemplateOptions;
  /** variants firstVariant .. firstVariant + warmup + requests - 1 */
  firstVariant: number;
  warmup: number;
  requests: number;
  connections: number;
  gzip: boolean;
  /** The timed phase stops sending after this long, even if requests remain. */
  maxMs: number;
}

export interface LoadResult {
  requests: number;
  /** Spans of the timed requests answered 200. */
  spans: number;
  elapsedMs: number;
  bodyBytes: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
  prepareMs: number;
  /** This process's CPU during the timed phase: it shares the machine with the server. */
  cpuMs: number;
}

export type ClientMessage = { type: 'ready'; prepareMs: number } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };
export type ParentMessage = { type: 'job'; job: LoadJob } | { type: 'go' };

function post(agent: Agent, url: URL, body: Buffer, gzip: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/x-protobuf',
          'content-length': body.length,
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
      },
      res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(job: LoadJob, go: Promise<void>, ready: (prepareMs: number) => void): Promise<LoadResult> {
  const t0 = performance.now();
  const templates = makeTemplates(job.templates, job.templateOptions);
  const total = job.warmup + job.requests;
  const bodies: Buffer[] = [];
  const spansPerBody: number[] = [];
  for (let i = 0; i < total; i++) {
    const v = job.firstVariant + i;
    const t = templates[v % templates.length]!;
    const raw = variantBody(t, v);
    bodies.push(job.gzip ? gzipSync(raw) : raw);
    spansPerBody.push(t.spanCount);
  }
  const prepareMs = performance.now() - t0;
  ready(prepareMs);
  await go;

  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  let deadline = Infinity;
  let done = 0;
  const worker = async (until: number, record: boolean) => {
    for (;;) {
      if (performance.now() > deadline) return;
      const i = next++;
      if (i >= until) return;
      const started = performance.now();
      const status = await post(agent, url, bodies[i]!, job.gzip);
      if (record) {
        latencies.push(performance.now() - started);
        statuses[status] = (statuses[status] ?? 0) + 1;
        // Only what was stored counts: refused requests are fast, and counted they made a run
        // answered all 503 look like 590k spans/s.
        if (status === 200) done += spansPerBody[i]!;
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, () => worker(job.warmup, false)));
  next = job.warmup;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  deadline = started + job.maxMs;
  await Promise.all(Array.from({ length: job.connections }, () => worker(total, true)));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  agent.destroy();
  const sent = latencies.length;
  return {
    requests: sent,
    spans: done,
    elapsedMs,
    bodyBytes: bodies.slice(job.warmup, job.warmup + sent).reduce((a, b) => a + b.length, 0),
    statuses,
    latenciesMs: latencies,
    prepareMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

if (process.send) {
  let release!: () => void;
  const go = new Promise<void>(r => (release = r));
  const send = (m: ClientMessage) => process.send!(m);
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'go') release();
    else
      run(m.job, go, prepareMs => send({ type: 'ready', prepareMs }))
        .then(result => send({ type: 'result', result }))
        .catch((e: Error) => send({ type: 'error', message: e.stack ?? e.message }))
        .finally(() => process.disconnect());
  });
}
