// Which file a path names: its device and inode. A descriptor stays on the file it opened when the
// path is removed or made to name another file, so comparing identities is how a holder of
// descriptors learns that its path no longer leads to them. Bigints: inode numbers may pass 2^53.
import { statSync } from 'node:fs';

export interface FileId {
  dev: bigint;
  ino: bigint;
}

/** Nothing there: the path, or a directory on it, is gone. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

/** What the path names now; null if nothing. Other errors (EACCES, EIO) are thrown: they tell nothing of the file. */
export function fileIdAt(path: string): FileId | null {
  try {
    const s = statSync(path, { bigint: true });
    return { dev: s.dev, ino: s.ino };
  } catch (e) {
    if (ABSENT.has((e as { code?: string }).code ?? '')) return null;
    throw e;
  }
}

export function sameFile(a: FileId | null, b: FileId | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}
