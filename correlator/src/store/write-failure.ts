// What a failed store write means to its callers, in one place: the ingest routes answer 503 for
// a write the store could not make (the client may retry it), and readiness turns off while the
// storage itself takes no writes.

/** The code a batch held by a writer thread that failed is rejected with. */
export const WRITER_FAILED_CODE = 'CORR_STORE_WRITER_FAILED';

/** The code of a write refused because DATA_DIR no longer holds the store's files (data-dir-watch.ts). */
export const DATA_DIR_LOST_CODE = 'CORR_STORE_DATA_DIR_LOST';

/**
 * SQLite codes of a storage that cannot take writes, as opposed to a row that cannot be written
 * or a lock another connection holds for a while (busy: the store is slow, not broken).
 */
const STORAGE_FAILURES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB)/;
/** The same, from writing span bytes to their segment files (span-body-files.ts). */
const SPAN_FILE_STORAGE_FAILURES = /^(ENOSPC|EDQUOT|EIO|EROFS|EACCES|EPERM)$/;
/** A storage with no room left (SQLite's own code for it, or a segment file's): it passes once room is made. */
const NO_ROOM = /^(SQLITE_FULL|ENOSPC|EDQUOT)$/;
/** Out of descriptors: the write is unmade, but it passes, so the storage is not failing. */
const DESCRIPTORS_EXHAUSTED = /^(EMFILE|ENFILE)$/;

function codeOf(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/** The code of a write the store could not make, or null for any other error. */
export function unstoredWriteCode(e: unknown): string | null {
  const code = codeOf(e);
  return code !== null && (code.startsWith('SQLITE_') || code === WRITER_FAILED_CODE || code === DATA_DIR_LOST_CODE || SPAN_FILE_STORAGE_FAILURES.test(code) || DESCRIPTORS_EXHAUSTED.test(code)) ? code : null;
}

/** Why the storage itself takes no writes, if that is what `e` says; null otherwise. */
export function storageFailure(e: unknown): string | null {
  const code = codeOf(e);
  return code !== null && (STORAGE_FAILURES.test(code) || SPAN_FILE_STORAGE_FAILURES.test(code))
    ? `${code}: ${(e as Error).message}`
    : null;
}

/** Whether `e` says the storage has no room: a full disk or quota, which space made later ends. */
export function noRoom(e: unknown): boolean {
  const code = codeOf(e);
  return code !== null && NO_ROOM.test(code);
}

/**
 * Failed writes the store already told of: the storage was known to take no writes when they
 * failed. The ingest routes log a failed write once, not once per request while a disk is full.
 */
const toldOf = new WeakSet<object>();

export function markToldOf(e: unknown): void {
  if (typeof e === 'object' && e !== null) toldOf.add(e);
}

export function alreadyToldOf(e: unknown): boolean {
  return typeof e === 'object' && e !== null && toldOf.has(e);
}
