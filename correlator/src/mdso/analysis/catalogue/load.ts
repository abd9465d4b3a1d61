// Reading a rule file from disk: the I/O edge around parseCatalogue.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCatalogue } from './parse.js';
import type { CatalogueParseResult } from './types.js';

/** correlator/defects/catalogue.yaml, found from this file in src/ and in dist/ alike. */
export const SHIPPED_CATALOGUE_PATH = fileURLToPath(new URL('../../../../defects/catalogue.yaml', import.meta.url));

export function loadCatalogueFile(path: string): CatalogueParseResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ line: 0, column: 0, message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }] };
  }
  return parseCatalogue(text);
}
