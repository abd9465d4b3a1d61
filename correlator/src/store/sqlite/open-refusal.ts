// Why the store could not open its directory, as a start-up refusal naming DATA_DIR. SQLite says
// "unable to open database file" for a directory this user may not write, a full disk or a file
// of another program: the operator needs the setting and the path, not a stack trace.
import { ConfigError } from '../../config/config.js';
import { DataDirInUseError } from './data-dir-lock.js';

/** SQLite result codes and errno codes that say the directory or its files are unusable. */
const UNUSABLE = new Set([
  'SQLITE_READONLY',
  'SQLITE_PERM',
  'SQLITE_FULL',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'ENOTDIR',
  'EISDIR',
  'ENOENT',
]);

/** A ConfigError for DATA_DIR when `e` is the directory's fault; null for anything else (a defect, kept with its stack). */
export function dataDirRefusal(dataDir: string, e: unknown): ConfigError | null {
  if (e instanceof DataDirInUseError) return new ConfigError('DATA_DIR', e.message.replace(/^DATA_DIR /, ''), { cause: e });
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(UNUSABLE.has(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN'))) return null;
  return new ConfigError('DATA_DIR', `"${dataDir}" cannot hold the store (${code}: ${(e as Error).message})`, { cause: e });
}
