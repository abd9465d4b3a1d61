// Runs every test/**/*.test.ts with node:test (Node 20's --test takes no globs), streams the
// output, and closes with the plain "N passed, N failed" line CI reads.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = (only.length ? only : find('test').map(f => relative('.', f))).sort();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let tail = '';
child.stdout.on('data', chunk => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', code => {
  const count = label => Number(new RegExp(`[ℹ#] ${label} (\\d+)`).exec(tail)?.[1] ?? NaN);
  const passed = count('pass');
  const failed = count('fail');
  const skipped = count('skipped');
  // Tests cancelled by a failed before() hook did not pass: node:test counts them apart from
  // "fail", which alone would close the run with "0 failed".
  const cancelled = count('cancelled') || 0;
  if (Number.isFinite(passed)) {
    console.log(`\ncorrelator tests: ${passed} passed, ${failed + cancelled} failed${skipped ? `, ${skipped} skipped` : ''}`);
  }
  process.exit(code ?? 1);
});
