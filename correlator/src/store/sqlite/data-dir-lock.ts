// One correlator per data directory. Two processes on one directory (an overlapping restart, two
// replicas on a shared volume) would give the same chunk and resource ids, and one's retention
// could delete the segment the other appends to (span-body-files.ts). The lock is SQLite's own
// file lock on a file of its own, held in an exclusive transaction for the life of the store: the
// operating system lets go of it when the process ends, even by kill -9, so it never goes stale.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { fileIdAt, sameFile, type FileId } from './file-identity.js';
import { makeDirs } from './make-dirs.js';

export const LOCK_FILE = 'correlator.lock';
const LOCK_WAIT_MS = 5000;

/** Another correlator holds the directory: a refusal to start, not a fault of this one. */
export class DataDirInUseError extends Error {}

export class DataDirLock {
  private readonly file: string;
  /** The connections holding a lock: the first, and any taken again at the path (keep). */
  private readonly held: Database.Database[] = [];
  /** The file the newest lock is on. */
  private heldFile: FileId | null = null;

  /** Throws, naming the directory, while another store (in this process or another) holds it. */
  constructor(private readonly dataDir: string) {
    this.file = join(dataDir, LOCK_FILE);
    // A correlator that is stopping (an overlapping restart) gets a few seconds to let go.
    this.take(LOCK_WAIT_MS, `${LOCK_FILE} stayed locked for ${LOCK_WAIT_MS / 1000} s`);
  }

  /**
   * Takes the lock again when the path no longer names the file locked (removed, alone or with
   * DATA_DIR, or replaced): the lock is on a file, not a path, and a second correlator could start
   * on the directory while this one runs. Whether it had to; throws DataDirInUseError, without
   * waiting, if another correlator took it first.
   */
  keep(): boolean {
    if (sameFile(fileIdAt(this.file), this.heldFile)) return false;
    makeDirs(this.dataDir);
    this.take(0, `it took ${LOCK_FILE} after this correlator's was removed`);
    return true;
  }

  release(): void {
    for (const db of this.held) if (db.open) db.close();
  }

  private take(waitMs: number, why: string): void {
    const db = new Database(this.file, { timeout: waitMs });
    try {
      // The lock's transaction never commits: with its journal in memory, taking the lock needs no
      // room on the disk, and a full one does not keep the store from opening to be read.
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY')
        throw new DataDirInUseError(`DATA_DIR ${this.dataDir} is in use by another correlator (${why}); stop it first`);
      throw e;
    }
    this.held.push(db);
    this.heldFile = fileIdAt(this.file);
  }
}
