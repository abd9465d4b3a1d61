// First matching rule wins, in file order, like META's spreadsheet; a rule with a product scope only
// applies to failures of those products.
//
// Testing every pattern in turn costs one regex run per pattern for an uncategorised text. Instead the
// rules sit in a binary tree whose nodes hold the union of their rules' patterns: a node whose union does
// not match is skipped whole, so a text costs about 2·log2(rules) union runs, and file order is kept by
// always searching the left half first. Unions are RE2 too, so still linear time.
import { RE2JS } from 're2js';
import type { Catalogue, CompiledRule } from './types.js';

export interface CatalogueMatch {
  rule: CompiledRule;
  /** position of the rule in the file (0-based) */
  ruleIndex: number;
  patternIndex: number;
}

interface RuleNode {
  /** null when the union could not be compiled (then the node is always searched) */
  union: RE2JS | null;
  lo: number;
  hi: number;
  left: RuleNode | null;
  right: RuleNode | null;
}

const trees = new WeakMap<Catalogue, RuleNode | null>();

function buildTree(rules: readonly CompiledRule[], lo: number, hi: number): RuleNode {
  let union: RE2JS | null;
  try {
    union = RE2JS.compile(rules.slice(lo, hi).flatMap(r => r.patterns).map(p => `(?:${p})`).join('|'));
  } catch {
    // A pattern that is valid alone but not inside a group (e.g. an unterminated \Q) just loses the shortcut.
    union = null;
  }
  if (hi - lo === 1) return { union, lo, hi, left: null, right: null };
  const mid = (lo + hi) >> 1;
  return { union, lo, hi, left: buildTree(rules, lo, mid), right: buildTree(rules, mid, hi) };
}

/** Built on first use (or by prepareCatalogue), not at parse time, so validating a file does not pay for it. */
function treeOf(catalogue: Catalogue): RuleNode | null {
  let tree = trees.get(catalogue);
  if (tree === undefined) {
    tree = catalogue.rules.length > 0 ? buildTree(catalogue.rules, 0, catalogue.rules.length) : null;
    trees.set(catalogue, tree);
  }
  return tree;
}

function matchRule(rule: CompiledRule, ruleIndex: number, text: string, product: string): CatalogueMatch | null {
  if (rule.products.length > 0 && !rule.products.includes(product)) return null;
  for (let j = 0; j < rule.compiled.length; j++) {
    if (rule.compiled[j]!.test(text)) return { rule, ruleIndex, patternIndex: j };
  }
  return null;
}

function search(node: RuleNode, rules: readonly CompiledRule[], text: string, product: string): CatalogueMatch | null {
  if (node.union && !node.union.test(text)) return null;
  if (!node.left || !node.right) return matchRule(rules[node.lo]!, node.lo, text, product);
  return search(node.left, rules, text, product) ?? search(node.right, rules, text, product);
}

/** Builds the search tree now, so the first recorded failure after a (re)load does not wait for it. */
export function prepareCatalogue(catalogue: Catalogue): void {
  treeOf(catalogue);
}

export function categorise(catalogue: Catalogue, text: string, product: string): CatalogueMatch | null {
  if (text === '') return null;
  const tree = treeOf(catalogue);
  return tree ? search(tree, catalogue.rules, text, product) : null;
}

/** The plain first-match loop; the reference the tree search must agree with. */
export function categoriseLinear(catalogue: Catalogue, text: string, product: string): CatalogueMatch | null {
  if (text === '') return null;
  for (let i = 0; i < catalogue.rules.length; i++) {
    const m = matchRule(catalogue.rules[i]!, i, text, product);
    if (m) return m;
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
