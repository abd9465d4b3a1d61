// The settings every connection that writes the store's file uses: the store's own and the writer
// thread's. WAL, synchronous and the checkpoint settings are per connection, not per file.
import type Database from 'better-sqlite3';

export function configureConnection(db: Database.Database, fileBacked: boolean): void {
  // WAL + synchronous=NORMAL: a committed transaction is in the WAL file before we answer 2xx,
  // so it survives the process being killed; only a power loss could take the last commits.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
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
