// Time buckets for the summary series: planning (with the bounds that make a request absurd) and
// folding the per-bucket counts into aligned series.
import type { MdsoSummaryGroupBy, MdsoSummaryResponse } from '@correlation-station/api-schema';
import type { BucketCount } from '../store/repository.js';

export const MAX_BUCKETS = 2000;
const DEFAULT_BUCKETS = 120;

export type BucketPlan = { ok: true; fromMs: number; toMs: number; stepSeconds: number; buckets: number } | { ok: false; message: string };

export function planBuckets(fromMs: number, toMs: number, stepSeconds: number | undefined): BucketPlan {
  if (toMs < fromMs) return { ok: false, message: `"to" (${new Date(toMs).toISOString()}) must not be before "from" (${new Date(fromMs).toISOString()})` };
  const rangeSeconds = (toMs - fromMs) / 1000;
  const step = stepSeconds ?? Math.max(1, Math.ceil(rangeSeconds / DEFAULT_BUCKETS));
  // from == to is one instant, which still needs a bucket to be counted in.
  const buckets = Math.max(1, Math.ceil(rangeSeconds / step));
  if (buckets > MAX_BUCKETS) {
    return {
      ok: false,
      message: `step=${step}s over ${Math.round(rangeSeconds)}s makes ${buckets} buckets; at most ${MAX_BUCKETS}: use step >= ${Math.ceil(rangeSeconds / MAX_BUCKETS)} or a shorter range`,
    };
  }
  return { ok: true, fromMs, toMs, stepSeconds: step, buckets };
}

const MISSING_KEY: Record<MdsoSummaryGroupBy, string> = { product: 'unknown', defect_code: 'uncategorized', system: 'unknown' };

export function foldSeries(plan: Extract<BucketPlan, { ok: true }>, groupBy: MdsoSummaryGroupBy, rows: readonly BucketCount[]): MdsoSummaryResponse {
  const series = new Map<string, number[]>();
  let total = 0;
  for (const r of rows) {
    if (r.bucket < 0 || r.bucket > plan.buckets) continue;
    // "to" is inclusive: when the range is a whole number of steps, an error at exactly "to" starts a bucket
    // past the last one and is counted in the last.
    const bucket = Math.min(r.bucket, plan.buckets - 1);
    const key = r.key ?? MISSING_KEY[groupBy];
    let counts = series.get(key);
    if (!counts) series.set(key, (counts = new Array<number>(plan.buckets).fill(0)));
    counts[bucket] = (counts[bucket] ?? 0) + r.n;
    total += r.n;
  }
  const out = [...series.entries()]
    .map(([key, counts]) => ({ key, counts, total: counts.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
  return {
    fromMs: plan.fromMs,
    toMs: plan.toMs,
    stepSeconds: plan.stepSeconds,
    groupBy,
    bucketStartsMs: Array.from({ length: plan.buckets }, (_, i) => plan.fromMs + i * plan.stepSeconds * 1000),
    total,
    series: out,
  };
}
