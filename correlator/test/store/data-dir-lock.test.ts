// One correlator per data directory: a second store on it is refused with a message that names the
// directory, from this process or another, and the lock goes with its holder, even by kill -9.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { LOCK_FILE } from '../../src/store/sqlite/data-dir-lock.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const IN_USE =
  /^Error: DATA_DIR .+ is in use by another correlator \(correlator\.lock stayed locked for 5 s\); stop it first$/;

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const open = (dir: string) => new SqliteStore({ dataDir: dir, exportBridges: null });

/** Whether `done` came true within `ms`, looked at every 50 ms. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (done()) return true;
  return done();
}

describe('the data directory lock', () => {
  it('is taken without writing a journal: a full disk does not keep the store from opening', async t => {
    const dir = await dataDir(t);
    const store = open(dir);
    const journal = existsSync(join(dir, `${LOCK_FILE}-journal`));
    await store.close();
    assert.equal(journal, false);
  });

  it('refuses a second store in the same process until the first is closed', async t => {
    const dir = await dataDir(t);
    const first = open(dir);
    assert.throws(() => open(dir), IN_USE);
    await first.close();
    const second = open(dir);
    await second.close();
  });

  it('refuses a store while another process holds the directory, and not after that process is killed', async t => {
    const dir = await dataDir(t);
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./fixtures/hold-data-dir.ts', import.meta.url).pathname, dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    t.after(() => holder.kill('SIGKILL'));
    const [line] = (await once(holder.stdout, 'data')) as [Buffer];
    assert.equal(line.toString().trim(), 'held');
    assert.throws(() => open(dir), IN_USE);
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const store = open(dir);
    await store.close();
  });

  // The lock is on a file: a new file at the path would be free while the first store still runs.
  for (const removed of ['lock file', 'directory'] as const) {
    it(`refuses a second store while the first runs after its ${removed} was removed`, async t => {
      const dir = await dataDir(t);
      const first = open(dir);
      t.after(() => first.close());
      await rm(removed === 'directory' ? dir : join(dir, LOCK_FILE), { recursive: true, force: true });
      // The first store looks once a second.
      await within(5000, () => existsSync(join(dir, LOCK_FILE)));
      assert.throws(() => open(dir), IN_USE);
      await first.close();
      const second = open(dir);
      await second.close();
    });
  }

  it('leaves a store in memory alone: two open at once, each its own, nothing on disk', async () => {
    const a = new SqliteStore({ dataDir: ':memory:', exportBridges: null });
    const b = new SqliteStore({ dataDir: ':memory:', exportBridges: null });
    try {
      a.db.exec('CREATE TABLE only_in_a (x)');
      const tables = (s: SqliteStore) => s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'only_in_a'").pluck().all();
      assert.deepEqual([tables(a), tables(b)], [['only_in_a'], []], 'each store its own database');
      // Not a directory named ":memory:" in the working directory, nor a lock in it.
      assert.equal(existsSync(':memory:'), false);
      assert.equal(existsSync(LOCK_FILE), false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
