// Whether the storage takes writes, asked with a write of its own: a store that refuses every
// write (a full disk) takes no ingest, so no request would find out when it takes them again.
import type Database from 'better-sqlite3';
import { probeSegmentWrite } from './span-body-files.js';

/**
 * A small write that needs a new page and a commit, rolled back by a second one, and one to the
 * segment directory when the store has one (`spanDir`). Throws what the storage said.
 */
export function probeWrite(db: Database.Database, spanDir: string | null): void {
  db.transaction(() => {
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('ready_probe', hex(randomblob(4096)))`).run();
    db.prepare(`DELETE FROM meta WHERE key = 'ready_probe'`).run();
  })();
  if (spanDir !== null) probeSegmentWrite(spanDir);
}
