// Prometheus metrics of the analysis. Guarded with getSingleMetric so that two analyses on one registry
// (tests, re-registration) reuse the metric instead of throwing.
import { Counter, Gauge, type Registry } from 'prom-client';
import { OPEN_STATES, type IssueState } from './issues/state-machine.js';

export interface AnalysisMetrics {
  errors: Counter<'product' | 'defect_code' | 'system'>;
  webhook: Counter<'outcome'>;
}

export function analysisMetrics(registry: Registry, openIssueCounts: () => Array<{ state: IssueState; n: number }>): AnalysisMetrics {
  const errors =
    (registry.getSingleMetric('mdso_errors_total') as Counter<'product' | 'defect_code' | 'system'> | undefined) ??
    new Counter({
      name: 'mdso_errors_total',
      help: 'MDSO failures recorded, by product, defect code (or "uncategorized") and system',
      labelNames: ['product', 'defect_code', 'system'],
      registers: [registry],
    });
  if (!registry.getSingleMetric('mdso_open_issues')) {
    new Gauge({
      name: 'mdso_open_issues',
      help: 'MDSO error issues that are open (new, acknowledged, regressed), by state',
      labelNames: ['state'],
      registers: [registry],
      // Read at scrape time from the store: the issues table is the truth, no counter can drift from it.
      collect() {
        const counts = new Map(openIssueCounts().map(r => [r.state, r.n]));
        for (const s of OPEN_STATES) this.set({ state: s }, counts.get(s) ?? 0);
      },
    });
  }
  const webhook =
    (registry.getSingleMetric('mdso_webhook_notifications_total') as Counter<'outcome'> | undefined) ??
    new Counter({
      name: 'mdso_webhook_notifications_total',
      help: 'Issue notifications by outcome (queued, sent, failed, dropped)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  return { errors, webhook };
}
