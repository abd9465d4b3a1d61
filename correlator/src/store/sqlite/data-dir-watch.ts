// A running store writes through descriptors it opened at start. DATA_DIR removed under it (rm -rf),
// or moved away and replaced, leaves them on files no path names: writes still succeed, and the
// next start finds none of it. So the store looks whether DATA_DIR and its files are still the ones
// it opened (device and inode), and from the first time they are not it takes no more writes:
// nothing it acknowledged after could be kept. It also keeps its lock at the path
// (data-dir-lock.ts), so no second correlator starts there while this one runs.
//
// A stat costs 15-20 µs on a slow disk's VM: every file and the lock are looked at once a second;
// before each acknowledgement only the database file, whose path goes through DATA_DIR, so that
// one look sees the directory removed or replaced too.
import { join } from 'node:path';
import { DATA_DIR_LOST_CODE } from '../write-failure.js';
import { DataDirInUseError, type DataDirLock } from './data-dir-lock.js';
import { fileIdAt, sameFile, type FileId } from './file-identity.js';

const LOOK_EVERY_MS = 1000;

/** A write refused because the store's files are gone: the ingest routes answer 503. */
export class DataDirLostError extends Error {
  readonly code = DATA_DIR_LOST_CODE;
}

export interface DataDirWatchEvents {
  /** Once, when the store stops taking writes, with why (naming DATA_DIR, not its path). */
  onLost: (why: string) => void;
  /** The lock's file alone was removed or replaced; the lock was taken again at its path. */
  onRelocked: () => void;
}

interface Watched {
  /** As the operator knows it: the setting, or a file in it. */
  name: string;
  path: string;
  id: FileId;
}

export class DataDirWatch {
  private readonly watched: Watched[] = [];
  private why: string | null = null;
  private readonly timer: NodeJS.Timeout;

  /**
   * `files`: the store's files and directories in DATA_DIR, the first the one looked at before each
   * acknowledgement (verify); one not there now is not watched.
   */
  constructor(
    private readonly dataDir: string,
    files: readonly string[],
    private readonly lock: DataDirLock,
    private readonly events: DataDirWatchEvents,
  ) {
    for (const [name, path] of [...files.map(f => [`${f} in DATA_DIR`, join(dataDir, f)]), ['DATA_DIR', dataDir]] as const) {
      const id = fileIdAt(path);
      if (id) this.watched.push({ name, path, id });
    }
    this.timer = setInterval(() => this.check(), LOOK_EVERY_MS).unref();
  }

  /** Why the store takes no more writes, as last looked; null while it takes them. */
  get lost(): string | null {
    return this.why;
  }

  /** Looks now (a few stats): why the store can no longer keep what it is given, or null. */
  check(): string | null {
    const gone = this.why === null ? this.filesGone() : null;
    // Kept even once lost: the store's descriptors are open until it closes.
    let lockWhy: string | null = null;
    let relocked = false;
    try {
      relocked = this.lock.keep();
    } catch (e) {
      lockWhy =
        e instanceof DataDirInUseError
          ? 'another correlator took the lock of DATA_DIR after its lock file was removed, and two must not write one store; stop one of them'
          : `the lock of DATA_DIR was removed and cannot be taken again (${(e as Error).message}); restart the correlator`;
    }
    if (this.why !== null) return this.why;
    const why = gone ?? lockWhy;
    if (why === null) {
      if (relocked) this.events.onRelocked();
      return null;
    }
    this.why = why;
    this.events.onLost(why);
    return why;
  }

  /** Throws DataDirLostError if the store is lost, looking at its first file alone (then at all, to say why). */
  verify(): void {
    const first = this.watched[0];
    const why = this.why ?? (first && !sameFile(fileIdAtOrSame(first), first.id) ? this.check() : null);
    if (why !== null) throw new DataDirLostError(why);
  }

  /** `file` in DATA_DIR was replaced by the store itself: watched as it is now (or not, if gone). */
  renew(file: string): void {
    const name = `${file} in DATA_DIR`;
    const at = this.watched.findIndex(w => w.name === name);
    const path = join(this.dataDir, file);
    let id: FileId | null;
    try {
      id = fileIdAt(path);
    } catch {
      // Not to be looked at now (EACCES, EIO): kept as it was, which such a look counts as the same.
      return;
    }
    if (at >= 0) this.watched.splice(at, 1);
    // DATA_DIR stays last: it is looked at after the files in it (filesGone walks them in reverse).
    if (id) this.watched.splice(Math.max(0, this.watched.length - 1), 0, { name, path, id });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Why, naming the outermost path gone: DATA_DIR itself before a file in it. */
  private filesGone(): string | null {
    for (const w of [...this.watched].reverse()) {
      const now = fileIdAtOrSame(w);
      if (sameFile(now, w.id)) continue;
      return `${w.name} was ${now === null ? 'removed' : 'replaced'} while the correlator ran: the store's files are no longer at that path, so nothing it is sent can be kept; restart the correlator`;
    }
    return null;
  }
}

/** What the path names now; a path that cannot be looked at (EACCES, EIO) may still lead to the file, so it counts as the same. */
function fileIdAtOrSame(w: Watched): FileId | null {
  try {
    return fileIdAt(w.path);
  } catch {
    return w.id;
  }
}
