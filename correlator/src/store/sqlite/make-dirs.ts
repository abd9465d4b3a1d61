// mkdirSync(path, { recursive: true }) never returns for a path under /proc (Node 20 retries the
// ENOENT it gets there for ever, at 100% CPU): DATA_DIR=/proc/nope hung start-up with no word.
// This makes each missing directory in turn, so such a path is the error it is.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes `path` and its missing parents; throws the errno error of the first that cannot be made. */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      statSync(dir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(dir) === dir) throw e;
      missing.push(dir);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      // Made meanwhile by another (two starts at once): as good as made here.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
