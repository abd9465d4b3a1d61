// A store whose DATA_DIR was moved away and replaced still holds its own files open, but the paths
// it would delete by are the new directory's: its retention must leave them alone.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { segmentFileName, segmentsIn } from '../../src/store/sqlite/span-body-files.js';

describe('a store whose DATA_DIR was replaced', () => {
  it("deletes none of the new directory's segment files in a retention sweep", async t => {
    const parent = await mkdtemp(join(tmpdir(), 'corr-replaced-'));
    t.after(() => rm(parent, { recursive: true, force: true }));
    const dir = join(parent, 'data');
    const store = new SqliteStore({ dataDir: dir, exportBridges: null });
    t.after(() => store.close());
    renameSync(dir, `${dir}.old`);
    const spans = join(dir, 'spans');
    mkdirSync(spans, { recursive: true });
    for (const segment of [1, 2, 3]) writeFileSync(join(spans, segmentFileName(segment)), "another store's span bytes");
    store.prune(Date.now());
    assert.deepEqual(segmentsIn(spans), [1, 2, 3]);
    assert.match(store.writeTrouble() ?? '', /^DATA_DIR was replaced while the correlator ran/);
  });
});
