// Drain-style clustering of uncategorised error templates: texts are bucketed by token count and first
// token, then merged into the most similar cluster when enough tokens agree; disagreeing positions become
// <*>. Deterministic for a given input order (callers pass oldest first).
import { isPlaceholder } from './mask.js';

export interface DrainInput {
  template: string;
  /** raw texts behind the template */
  examples: readonly string[];
  count: number;
  firstSeenMs: number;
  lastSeenMs: number;
  product: string;
}

export interface DrainCluster {
  template: string;
  count: number;
  firstSeenMs: number;
  lastSeenMs: number;
  examples: string[];
  products: string[];
}

export interface DrainOptions {
  /** share of positions that must agree to merge (Drain's st) */
  similarity: number;
  maxExamples: number;
  maxClusters: number;
}

const DEFAULTS: DrainOptions = { similarity: 0.6, maxExamples: 3, maxClusters: 500 };

interface Working {
  tokens: string[];
  cluster: DrainCluster;
}

function similarity(a: readonly string[], b: readonly string[]): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i] || (isPlaceholder(a[i]!) && isPlaceholder(b[i]!))) same++;
  return a.length === 0 ? 1 : same / a.length;
}

export function drainCluster(inputs: readonly DrainInput[], options: Partial<DrainOptions> = {}): DrainCluster[] {
  const opts = { ...DEFAULTS, ...options };
  const groups = new Map<string, Working[]>();
  const all: Working[] = [];
  for (const input of inputs) {
    const tokens = input.template.split(' ');
    // A leading placeholder would scatter texts over many buckets, so it buckets as one key.
    const head = tokens[0] !== undefined && isPlaceholder(tokens[0]) ? '<*>' : (tokens[0] ?? '');
    const key = `${tokens.length}\u0000${head}`;
    const bucket = groups.get(key) ?? [];
    let best: Working | null = null;
    let bestSim = -1;
    for (const w of bucket) {
      const s = similarity(w.tokens, tokens);
      if (s > bestSim) {
        bestSim = s;
        best = w;
      }
    }
    if (best && bestSim >= opts.similarity) {
      best.tokens = best.tokens.map((t, i) => (t === tokens[i] ? t : '<*>'));
      const c = best.cluster;
      c.template = best.tokens.join(' ');
      c.count += input.count;
      c.firstSeenMs = Math.min(c.firstSeenMs, input.firstSeenMs);
      c.lastSeenMs = Math.max(c.lastSeenMs, input.lastSeenMs);
      for (const e of input.examples) if (c.examples.length < opts.maxExamples && !c.examples.includes(e)) c.examples.push(e);
      if (!c.products.includes(input.product)) c.products.push(input.product);
      continue;
    }
    if (all.length >= opts.maxClusters) continue;
    const w: Working = {
      tokens,
      cluster: {
        template: input.template,
        count: input.count,
        firstSeenMs: input.firstSeenMs,
        lastSeenMs: input.lastSeenMs,
        examples: input.examples.slice(0, opts.maxExamples),
        products: [input.product],
      },
    };
    bucket.push(w);
    groups.set(key, bucket);
    all.push(w);
  }
  return all.map(w => w.cluster).sort((a, b) => b.count - a.count || b.lastSeenMs - a.lastSeenMs);
}
