// Turns a cluster into a catalogue rule an operator can paste: literal parts quoted, volatile parts
// wildcarded, and the pattern proven against the cluster's own examples with the engine that will run it.
import { stringify } from 'yaml';
import { compilePattern } from '../catalogue/parse.js';
import { PLACEHOLDER_SOURCE } from './mask.js';

export interface SuggestedRule {
  code: string;
  pattern: string;
  /** true when the pattern matched every example */
  verified: boolean;
  yaml: string;
}

const MAX_PATTERN_LITERAL = 160;

function quoteLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, ch => `\\${ch}`).replace(/ /g, '\\s+');
}

export function patternFromTemplate(template: string): string {
  const parts = template.split(new RegExp(PLACEHOLDER_SOURCE, 'g'));
  const pieces: string[] = [];
  let literalBudget = MAX_PATTERN_LITERAL;
  for (const part of parts) {
    const trimmed = part.length > literalBudget ? part.slice(0, literalBudget) : part;
    literalBudget -= trimmed.length;
    pieces.push(quoteLiteral(trimmed));
    if (literalBudget <= 0) break;
  }
  // `.*?` between literals mirrors META's habit of replacing every volatile token by `.*`.
  return pieces.filter((p, i) => p !== '' || i === 0).join('.*?').replace(/^(?:\.\*\?)+|(?:\.\*\?)+$/g, '') || '.+';
}

export function suggestRule(
  code: string,
  template: string,
  examples: readonly string[],
  product: string | null,
): SuggestedRule {
  let pattern = patternFromTemplate(template);
  let verified = matchesAll(pattern, examples);
  if (!verified) {
    // Fall back to the longest literal run shared by the template: weaker but provably matching.
    const longest = template.split(new RegExp(PLACEHOLDER_SOURCE, 'g')).map(s => s.trim()).sort((a, b) => b.length - a.length)[0] ?? '';
    const fallback = longest ? quoteLiteral(longest.slice(0, MAX_PATTERN_LITERAL)) : '';
    if (fallback && matchesAll(fallback, examples)) {
      pattern = fallback;
      verified = true;
    }
  }
  const title = template.replace(new RegExp(PLACEHOLDER_SOURCE, 'g'), '…').slice(0, 80).trim();
  const rule: Record<string, unknown> = {
    code,
    title,
    category: 'Uncategorized',
    system: /^Granite\b/i.test(template) ? 'Granite' : /^SEnSE\b/.test(template) ? 'SEnSE' : 'MDSO',
    ...(product ? { products: [product] } : {}),
    severity: 'minor',
    team: 'TBD',
    runbook: `https://runbooks.correlation-station.invalid/mdso/${code}`,
    patterns: [pattern],
  };
  return { code, pattern, verified, yaml: stringify([rule], { lineWidth: 0 }) };
}

function matchesAll(pattern: string, examples: readonly string[]): boolean {
  try {
    const re = compilePattern(pattern);
    return examples.length > 0 && examples.every(e => re.test(e));
  } catch {
    return false;
  }
}
