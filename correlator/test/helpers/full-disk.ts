// A full disk for a store's connection, as tests can make one without mounting a small filesystem:
// a page budget (SQLite's max_page_count) at the pages the file has, after VACUUM has left none
// free to reuse. Any write that needs a page fails with SQLITE_FULL, as on a full disk; deletes
// succeed, where on a disk with no byte free they need room in the WAL and fail too.
import type Database from 'better-sqlite3';

export function fullDisk(db: Database.Database): void {
  db.exec('VACUUM');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
}

/** The budget lifted: room again. */
export function roomAgain(db: Database.Database): void {
  db.pragma('max_page_count = 1073741823');
}
