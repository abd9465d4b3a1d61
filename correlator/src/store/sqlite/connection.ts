// The settings every connection that writes the store's file uses: the store's own and the writer
// thread's. WAL, synchronous and the checkpoint settings are per connection, not per file.
import type Database from 'better-sqlite3';

/**
 * The page cache of the writer thread's connection, in KiB. Smaller than the store's own (64 MiB,
 * which serves the views' reads): SQLite walks every page this connection caches at the end of
 * nearly every commit. A page split in an index keyed at random (trace ids, correlation ids) moves
 * a page through a temporary page number far past the end of the file, and the commit then drops
 * pages past the end by scanning the whole cache (pcache1TruncateUnsafe), not the few slots past
 * it: 216 of 220 commits replaying 440 ingest-bench requests did, ~0.16 ms each with 11k pages
 * cached (SQLite 3.49.2).
 * 16 MiB still holds the interior pages and recent leaves the writes descend through.
 */
export const WRITER_CACHE_KIB = 16384;

/** `cacheKiB`: the connection's page cache; the store's own connection keeps the default. */
export function configureConnection(db: Database.Database, fileBacked: boolean, cacheKiB = 65536): void {
  // WAL + synchronous=NORMAL: a committed transaction is in the WAL file before we answer 2xx,
  // so it survives the process being killed; only a power loss could take the last commits.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${cacheKiB}`);
  if (fileBacked) {
    // Checkpoints run in a worker on its own connection; a writing connection only checkpoints if
    // the WAL grows far beyond what the worker keeps up with.
    db.pragma('wal_autocheckpoint = 50000');
    // Above the size the WAL reaches between checkpoints, so its file is reused rather than cut
    // back and grown again: extending a file allocates and zeroes blocks under every frame
    // written, which made commits a third slower.
    db.pragma('journal_size_limit = 268435456');
  }
}
