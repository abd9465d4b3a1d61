// A store opened on a full disk. One already up to date is opened without a write, so what it
// holds can be read and writes are refused until they succeed again (test/api/full-disk-start);
// one of an older schema needs room to be upgraded, and is refused as it was, never part-way.
// A page budget on the store's connection (max_page_count) stands for the full disk.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { dataDirRefusal } from '../../src/store/sqlite/open-refusal.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { noRoom } from '../../src/store/write-failure.js';
import { cleanupStack, type Cleanup } from '../helpers/cleanup.js';
import { fullDisk, roomAgain } from '../helpers/full-disk.js';
import { until } from '../helpers/until.js';

/** A directory removed after the test, once what `cleanup` was given after it has closed. */
async function dataDir(cleanup: Cleanup): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-full-'));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A store of `dir` closed cleanly, which deletes the WAL's shared-memory file, and a FIFO in its
 * place: SQLite cannot grow it (SQLITE_IOERR_SHMOPEN), as it cannot make one on a full disk
 * (SQLITE_IOERR_SHMSIZE on an 8 MB tmpfs).
 */
async function noRoomForSharedMemory(dir: string): Promise<string> {
  const first = new SqliteStore({ dataDir: dir, exportBridges: null });
  await first.close();
  const shm = join(dir, 'correlator.db-shm');
  assert.equal(existsSync(shm), false, 'deleted by a clean stop');
  execFileSync('mkfifo', [shm]);
  return shm;
}

const versionOf = (db: Database.Database) => db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get();

describe('a store opened on a full disk', () => {
  it('is not written to by its migration when its schema is current', () => {
    const db = new Database(':memory:');
    migrate(db, { correlatingKeys: ['circuit_id'] });
    db.pragma('query_only = 1');
    assert.doesNotThrow(() => migrate(db, { correlatingKeys: ['circuit_id'] }));
    assert.equal(versionOf(db), String(SCHEMA_VERSION));
    db.close();
  });

  it('opens when its schema is current, reading what it holds and saying why writes are refused', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await dataDir(cleanup);
    const first = new SqliteStore({ dataDir: dir, exportBridges: null });
    assert.equal(first.writesRefused, null);
    await first.close();
    const store = new SqliteStore({ dataDir: dir, exportBridges: null, adjustConnection: fullDisk });
    cleanup(() => store.close());
    assert.match(store.writesRefused ?? '', /^SQLITE_FULL: /);
    assert.deepEqual(await store.logs({ limit: 1 }), []);
  });

  it('opens after a clean stop, its WAL index kept in memory, and shares it once writes succeed', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await dataDir(cleanup);
    const shm = await noRoomForSharedMemory(dir);
    const store = new SqliteStore({ dataDir: dir, exportBridges: null, adjustConnection: fullDisk, writeProbeMs: 20 });
    cleanup(() => store.close());
    assert.match(store.writesRefused ?? '', /^SQLITE_FULL: /);
    assert.deepEqual(await store.logs({ limit: 1 }), []);
    assert.equal(store.writeStats().writerThread, false, 'no other connection may open the store meanwhile');
    await unlink(shm);
    roomAgain(store.db);
    await until(async () => (store.writesRefused === null ? true : null), 'the store to take writes again');
    assert.equal(store.writeStats().writerThread, true, 'rows written in their thread again');
    const other = new Database(join(dir, 'correlator.db'), { readonly: true });
    cleanup(() => void other.close());
    assert.equal(versionOf(other), String(SCHEMA_VERSION), 'another connection reads the store');
    assert.equal(store.writeTrouble(), null, 'DATA_DIR not taken for lost: the store made its WAL again itself');
  });

  it('is refused as before when the WAL index cannot be made and the disk has room', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await dataDir(cleanup);
    await noRoomForSharedMemory(dir);
    let refused: unknown;
    assert.throws(() => new SqliteStore({ dataDir: dir, exportBridges: null }), e => ((refused = e), true));
    assert.match(
      dataDirRefusal(dir, refused)?.message ?? String(refused),
      /^Invalid setting DATA_DIR: ".+" cannot hold the store \(SQLITE_IOERR_SHMOPEN: /,
    );
  });

  it('is refused when its schema must be upgraded first, naming that and changing nothing', async t => {
    const cleanup = cleanupStack(fn => t.after(fn));
    const dir = await dataDir(cleanup);
    const ddl = await readFile(new URL('./fixtures/schema-v13.sql', import.meta.url), 'utf8');
    const fixture = new Database(join(dir, 'correlator.db'));
    fixture.exec(ddl);
    fixture.exec(`INSERT INTO meta VALUES ('schema_version', '13')`);
    fixture.close();
    let refused: unknown;
    assert.throws(
      () => new SqliteStore({ dataDir: dir, exportBridges: null, adjustConnection: fullDisk }),
      e => ((refused = e), noRoom(e)),
    );
    assert.equal(
      dataDirRefusal(dir, refused)?.message,
      `Invalid setting DATA_DIR: "${dir}" cannot hold the store (SQLITE_FULL: upgrading the store from schema 13 to ${SCHEMA_VERSION} ` +
        'needs room on the disk; nothing was changed (database or disk is full))',
    );
    const after = new Database(join(dir, 'correlator.db'), { readonly: true });
    assert.equal(versionOf(after), '13');
    assert.equal(after.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'log_circuits'`).pluck().get(), 0, 'not part-way');
    after.close();
    // With room, the same directory is upgraded and opened.
    const store = new SqliteStore({ dataDir: dir, exportBridges: null });
    cleanup(() => store.close());
    assert.equal(versionOf(store.db), String(SCHEMA_VERSION));
  });
});
