// First matching rule wins, in file order, like META's spreadsheet; a rule with a product scope only
// applies to failures of those products.
import type { Catalogue, CompiledRule } from './types.js';

export interface CatalogueMatch {
  rule: CompiledRule;
  /** position of the rule in the file (0-based) */
  ruleIndex: number;
  patternIndex: number;
}

export function categorise(catalogue: Catalogue, text: string, product: string): CatalogueMatch | null {
  if (text === '') return null;
  const rules = catalogue.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.products.length > 0 && !rule.products.includes(product)) continue;
    for (let j = 0; j < rule.compiled.length; j++) {
      if (rule.compiled[j]!.test(text)) return { rule, ruleIndex: i, patternIndex: j };
    }
  }
  return null;
}

/** The next code after the highest one in use: META numbers new defects the same way. */
export function nextFreeCode(catalogue: Catalogue, alsoTaken: Iterable<string> = []): string {
  let max = 999;
  const bump = (code: string) => {
    const n = Number(code.slice(3));
    if (Number.isInteger(n) && n > max) max = n;
  };
  for (const r of catalogue.rules) bump(r.code);
  for (const c of alsoTaken) bump(c);
  return `DE-${String(max + 1).padStart(4, '0')}`;
}
