// Which failed writes the ingest routes answer 503 for (the client may retry) and which of them
// mean the storage takes no writes (readiness off): SQLite's codes, and since schema 9 those of
// writing span bytes to their segment files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WRITER_FAILED_CODE, noRoom, storageFailure, unstoredWriteCode } from '../../src/store/write-failure.js';

const failed = (code: string | undefined, message = 'boom') => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('write failures', () => {
  const cases: [code: string | undefined, unstored: boolean, storage: boolean][] = [
    ['SQLITE_FULL', true, true],
    ['SQLITE_IOERR_WRITE', true, true],
    ['SQLITE_BUSY', true, false],
    ['SQLITE_CONSTRAINT_UNIQUE', true, false],
    [WRITER_FAILED_CODE, true, false],
    ['ENOSPC', true, true],
    ['EDQUOT', true, true],
    ['EIO', true, true],
    ['EROFS', true, true],
    ['EACCES', true, true],
    ['EMFILE', true, false],
    ['ENOENT', false, false],
    ['ENOSPCX', false, false],
    ['ERR_INVALID_ARG_TYPE', false, false],
    [undefined, false, false],
  ];
  for (const [code, unstored, storage] of cases) {
    it(`${code ?? 'no code'}: ${unstored ? '503' : 'not a store failure'}${storage ? ', storage takes no writes' : ''}`, () => {
      const e = failed(code, `write ${code}`);
      assert.equal(unstoredWriteCode(e), unstored ? code : null);
      assert.equal(storageFailure(e), storage ? `${code}: write ${code}` : null);
    });
  }

  // A full disk or quota, which room made later ends: the store starts on it, refusing writes.
  // Other storage failures (a read-only file or mount, I/O errors) are refused at start as before.
  for (const [code, full] of [['SQLITE_FULL', true], ['ENOSPC', true], ['EDQUOT', true], ['SQLITE_IOERR_WRITE', false], ['SQLITE_READONLY', false], ['EROFS', false], [undefined, false]] as const) {
    it(`${code ?? 'no code'}: ${full ? '' : 'not '}a storage with no room`, () => assert.equal(noRoom(failed(code)), full));
  }
});
