// One correlator per data directory. Two processes on one directory (an overlapping restart, two
// replicas on a shared volume) would give the same chunk and resource ids, and one's retention
// could delete the segment the other appends to (span-body-files.ts). The lock is SQLite's own
// file lock on a file of its own, held in an exclusive transaction for the life of the store: the
// operating system lets go of it when the process ends, even by kill -9, so it never goes stale.
import Database from 'better-sqlite3';
import { join } from 'node:path';

export const LOCK_FILE = 'correlator.lock';
const LOCK_WAIT_MS = 5000;

/** Another correlator holds the directory: a refusal to start, not a fault of this one. */
export class DataDirInUseError extends Error {}

export class DataDirLock {
  private readonly db: Database.Database;

  /** Throws, naming the directory, while another store (in this process or another) holds it. */
  constructor(dataDir: string) {
    // A correlator that is stopping (an overlapping restart) gets a few seconds to let go.
    this.db = new Database(join(dataDir, LOCK_FILE), { timeout: LOCK_WAIT_MS });
    try {
      this.db.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY')
        throw new DataDirInUseError(
          `DATA_DIR ${dataDir} is in use by another correlator (${LOCK_FILE} stayed locked for ${LOCK_WAIT_MS / 1000} s); stop it first`,
        );
      throw e;
    }
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
