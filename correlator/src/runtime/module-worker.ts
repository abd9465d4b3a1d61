// Starts a worker thread on a module that sits beside the caller's module: `.js` when built, `.ts`
// when run from sources (tests, benchmarks). From sources the worker registers tsx itself, since
// Node 20 does not run the parent's --import in worker threads.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `name` without extension, e.g. 'writer-worker'; `besideUrl` is the caller's `import.meta.url`. */
export function moduleWorker(besideUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const entry = new URL(`./${name}${extname(fileURLToPath(besideUrl))}`, besideUrl);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const boot = `import('tsx/esm/api').then(tsx => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
