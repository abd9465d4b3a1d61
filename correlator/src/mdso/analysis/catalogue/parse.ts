// Reads a defect rule file. Everything that can be wrong is reported with its line, all at once, so an
// author fixes a file in one pass; a file with any problem is refused whole (never half applied).
import { createHash } from 'node:crypto';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { RE2JS } from 're2js';
import {
  DEFECT_CODE_PATTERN,
  DEFECT_SEVERITIES,
  DEFECT_SYSTEMS,
  type CatalogueParseResult,
  type CatalogueProblem,
  type CompiledRule,
  type DefectSeverity,
  type DefectSystem,
} from './types.js';

const MAX_RULES = 5000;
const MAX_PATTERN_CHARS = 2000;
const RULE_KEYS = new Set(['code', 'title', 'category', 'system', 'products', 'severity', 'team', 'runbook', 'patterns']);

class ProblemList {
  readonly items: CatalogueProblem[] = [];
  constructor(private readonly lines: LineCounter) {}
  at(node: Node | null | undefined, message: string, fallbackOffset = 0): void {
    const offset = node?.range?.[0] ?? fallbackOffset;
    const pos = this.lines.linePos(offset);
    this.items.push({ line: pos.line, column: pos.col, message });
  }
}

function str(map: YAMLMap, key: string): { value: string | null; node: Node | null } {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined) return { value: null, node: null };
  if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
    return { value: String(node.value).trim(), node };
  }
  return { value: null, node };
}

/** RE2 syntax is close to but not the same as JS: compile with the engine that will run it. */
export function compilePattern(source: string): RE2JS {
  return RE2JS.compile(source);
}

export function parseCatalogue(text: string): CatalogueParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems = new ProblemList(lines);
  for (const err of doc.errors) {
    const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
    problems.items.push({ line: pos.line, column: pos.col, message: err.message.split('\n')[0] ?? err.message });
  }
  if (problems.items.length > 0) return { ok: false, problems: problems.items };

  const root = doc.contents;
  if (!isMap(root)) {
    problems.at(root, 'the file must be a mapping with "version" and "rules"');
    return { ok: false, problems: problems.items };
  }
  const version = str(root, 'version');
  if (!version.value) problems.at(version.node ?? root, '"version" is required and must be a string');

  const rulesNode = root.get('rules', true) as Node | undefined;
  const rules: CompiledRule[] = [];
  if (!isSeq(rulesNode)) {
    problems.at(rulesNode ?? root, '"rules" is required and must be a list');
  } else if (rulesNode.items.length > MAX_RULES) {
    problems.at(rulesNode, `too many rules (${rulesNode.items.length}, at most ${MAX_RULES})`);
  } else {
    const seenCodes = new Map<string, number>();
    for (const item of rulesNode.items) {
      const rule = parseRule(item as Node, problems, lines);
      if (!rule) continue;
      const dup = seenCodes.get(rule.code);
      if (dup !== undefined) {
        problems.at(item as Node, `defect code ${rule.code} is already used by the rule on line ${dup}`);
        continue;
      }
      seenCodes.set(rule.code, rule.line);
      rules.push(rule);
    }
  }
  if (problems.items.length > 0 || !version.value) return { ok: false, problems: problems.items };
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { ok: true, catalogue: { version: version.value, hash, rules } };
}

function parseRule(node: Node, problems: ProblemList, lines: LineCounter): CompiledRule | null {
  if (!isMap(node)) {
    problems.at(node, 'each rule must be a mapping');
    return null;
  }
  const before = problems.items.length;
  const line = lines.linePos(node.range?.[0] ?? 0).line;
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!RULE_KEYS.has(k)) problems.at(pair.key as Node, `unknown field "${k}" (allowed: ${[...RULE_KEYS].join(', ')})`);
  }
  const code = str(node, 'code');
  if (!code.value || !DEFECT_CODE_PATTERN.test(code.value)) {
    problems.at(code.node ?? node, `"code" must look like DE-1234, got ${code.value === null ? 'nothing' : `"${code.value}"`}`);
  }
  const required = (key: string): string => {
    const f = str(node, key);
    if (!f.value) problems.at(f.node ?? node, `"${key}" is required and must be a non-empty string`);
    return f.value ?? '';
  };
  const title = required('title');
  const category = required('category');
  const team = required('team');
  const runbook = required('runbook');
  if (runbook && !/^https?:\/\/\S+$/.test(runbook)) {
    problems.at(str(node, 'runbook').node, `"runbook" must be an http(s) URL, got "${runbook}"`);
  }
  const system = str(node, 'system');
  if (!system.value || !(DEFECT_SYSTEMS as readonly string[]).includes(system.value)) {
    problems.at(system.node ?? node, `"system" must be one of ${DEFECT_SYSTEMS.join(', ')}`);
  }
  const severity = str(node, 'severity');
  if (!severity.value || !(DEFECT_SEVERITIES as readonly string[]).includes(severity.value)) {
    problems.at(severity.node ?? node, `"severity" must be one of ${DEFECT_SEVERITIES.join(', ')}`);
  }

  const products: string[] = [];
  const productsNode = node.get('products', true) as Node | undefined;
  if (productsNode !== undefined) {
    if (!isSeq(productsNode)) problems.at(productsNode, '"products" must be a list of product names');
    else {
      for (const p of productsNode.items) {
        if (isScalar(p) && typeof p.value === 'string' && p.value.trim()) products.push(p.value.trim());
        else problems.at(p as Node, 'each product must be a non-empty string');
      }
    }
  }

  const patterns: string[] = [];
  const compiled: RE2JS[] = [];
  const patternsNode = node.get('patterns', true) as Node | undefined;
  if (!isSeq(patternsNode) || patternsNode.items.length === 0) {
    problems.at(patternsNode ?? node, '"patterns" is required: a list of at least one RE2 pattern');
  } else {
    for (const p of patternsNode.items) {
      if (!isScalar(p) || typeof p.value !== 'string' || p.value === '') {
        problems.at(p as Node, 'each pattern must be a non-empty string');
        continue;
      }
      if (p.value.length > MAX_PATTERN_CHARS) {
        problems.at(p as Node, `pattern longer than ${MAX_PATTERN_CHARS} characters`);
        continue;
      }
      try {
        compiled.push(compilePattern(p.value));
        patterns.push(p.value);
      } catch (e) {
        problems.at(p as Node, `pattern is not valid RE2: ${(e as Error).message}`);
      }
    }
  }
  if (problems.items.length > before) return null;
  return {
    code: code.value!,
    title,
    category,
    system: system.value as DefectSystem,
    products,
    severity: severity.value as DefectSeverity,
    team,
    runbook,
    patterns,
    compiled,
    line,
  };
}
