// `npm start` at the repository root runs correlator/'s start script in correlator/: the default
// DATA_DIR=./data made correlator/data, not the ./data both READMEs name (found by a review).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { operatorDirectory } from '../../src/runtime/operator-directory.js';
import { CORRELATOR_ROOT } from '../helpers/child-server.js';

test('relative settings are read from where npm ran the start script, and only then', () => {
  const cases: [what: string, env: NodeJS.ProcessEnv, dir: string | null][] = [
    ['npm start at the root', { npm_lifecycle_event: 'start:built', INIT_CWD: '/srv/station' }, '/srv/station'],
    ['node dist/server.js', {}, null],
    ['another npm script (npm test spawning servers)', { npm_lifecycle_event: 'test', INIT_CWD: '/srv/station' }, null],
    ['the start script without INIT_CWD', { npm_lifecycle_event: 'start:built' }, null],
  ];
  for (const [what, env, dir] of cases) assert.equal(operatorDirectory(env), dir, what);
});

// Runs dist/ as `npm start` does: `npm test` builds it first.
test('npm run start:built -w correlator at the root keeps a relative DATA_DIR at the root', async t => {
  const root = join(CORRELATOR_ROOT, '..');
  const name = `.test-npm-start-${process.pid}`;
  t.after(() => {
    rmSync(join(root, name), { recursive: true, force: true });
    rmSync(join(CORRELATOR_ROOT, name), { recursive: true, force: true });
  });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: `./${name}` };
  // detached: npm's child is the server, and a signal to npm alone is not passed on to it.
  const child = spawn('npm', ['run', 'start:built', '-w', 'correlator'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening after 60 s:\n${output}`)), 60_000);
    const take = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Server listening at')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('close', code => reject(new Error(`exited ${code} before listening:\n${output}`)));
  });
  try {
    await listening;
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
  await new Promise(r => child.once('close', r));
  assert.ok(existsSync(join(root, name, 'correlator.db')), `the store is at the root's ./${name}:\n${output}`);
  assert.equal(existsSync(join(CORRELATOR_ROOT, name)), false, 'nothing under correlator/');
  assert.match(output, new RegExp(`"dataDirPath":"${join(root, name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
});
