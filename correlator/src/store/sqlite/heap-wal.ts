// The store's WAL keeps its index in a shared-memory file beside it (correlator.db-shm), which its
// other connections (the writer thread's, the checkpointer's) read too. A clean stop deletes that
// file, and on a full disk it cannot be made again: the first read failed with
// SQLITE_IOERR_SHMSIZE and the correlator refused to start. With the exclusive locking mode set
// before the WAL is first read, SQLite keeps the index in the connection's heap instead
// (sqlite.org/wal.html, "Use of WAL Without Shared-Memory"), for that one connection alone: the
// store then opens on it, and shares its WAL again once writes succeed.
import Database from 'better-sqlite3';

/** Whether `e` is SQLite failing to open, grow or map the WAL's shared-memory file. */
export function sharedMemoryFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_IOERR_SHM');
}

/** A read that opens the WAL, and with it its index. */
const readWal = (db: Database.Database) => db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();

/**
 * `file` opened and `configure`d, its WAL read once. When its shared-memory file cannot be made,
 * opened again with the index in heap memory: `heapWalBecause` is then why the file could not be.
 */
export function openWal(
  file: string,
  configure: (db: Database.Database) => void,
): { db: Database.Database; heapWalBecause: unknown } {
  const db = new Database(file);
  try {
    configure(db);
    readWal(db);
    return { db, heapWalBecause: null };
  } catch (e) {
    db.close();
    if (!sharedMemoryFailure(e)) throw e;
    const heap = new Database(file);
    try {
      heap.pragma('locking_mode = EXCLUSIVE');
      configure(heap);
      readWal(heap);
    } catch (again) {
      heap.close();
      throw again;
    }
    return { db: heap, heapWalBecause: e };
  }
}

/**
 * Moves a connection's WAL index from its heap to the shared-memory file, so other connections
 * may open the store. SQLite allows it only out of WAL mode, so the WAL is first checkpointed into
 * the database file and deleted (a write: call it once writes succeed). Throws if a step fails. Up
 * to the last the connection still reads and writes the store alone, and this may be called again;
 * the last opens the shared-memory file, and if that fails (room taken again in between) the WAL
 * cannot be read on this connection until it is opened again.
 */
export function shareWal(db: Database.Database): void {
  db.pragma('journal_mode = DELETE');
  db.pragma('locking_mode = NORMAL');
  db.pragma('journal_mode = WAL');
  readWal(db);
}
