// The poller's Prometheus metrics. Guards allow two apps in one process to share a registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface PollMetrics {
  observePoll(seconds: number, outcome: string): void;
  /** endpoint: a route template, never with ids; status: HTTP status or an error kind */
  apiRequest(endpoint: string, status: string): void;
  /** the poller's failure spans as the span intake took them */
  spansIngested(outcome: { accepted: number; duplicates: number; rejected: number }): void;
}

interface Providers {
  lagSeconds: () => number | null;
  authRejectedPolls: () => number;
}

const providers = new WeakMap<Registry, Providers>();

export function createPollMetrics(registry: Registry, lagSeconds: () => number | null, authRejectedPolls: () => number = () => 0): PollMetrics {
  providers.set(registry, { lagSeconds, authRejectedPolls });
  const duration =
    (registry.getSingleMetric('mdso_poll_duration_seconds') as Histogram<'outcome'> | undefined) ??
    new Histogram({
      name: 'mdso_poll_duration_seconds',
      help: 'Duration of one MDSO poll over all configured products',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    });
  if (!registry.getSingleMetric('mdso_poll_lag_seconds')) {
    new Gauge({
      name: 'mdso_poll_lag_seconds',
      help: 'Seconds since the start of the oldest last completed product scan (how stale the view of MDSO is)',
      registers: [registry],
      collect() {
        const lag = providers.get(registry)?.lagSeconds() ?? null;
        if (lag !== null) this.set(lag);
      },
    });
  }
  if (!registry.getSingleMetric('mdso_auth_rejected_polls')) {
    new Gauge({
      name: 'mdso_auth_rejected_polls',
      help: 'Consecutive MDSO polls stopped because MDSO refused the credentials (0 once a login succeeds); scheduled polls back off while above 0',
      registers: [registry],
      collect() {
        this.set(providers.get(registry)?.authRejectedPolls() ?? 0);
      },
    });
  }
  const requests =
    (registry.getSingleMetric('mdso_api_requests_total') as Counter<'endpoint' | 'status'> | undefined) ??
    new Counter({
      name: 'mdso_api_requests_total',
      help: 'Requests made to the MDSO API, by endpoint template and HTTP status or error kind',
      labelNames: ['endpoint', 'status'],
      registers: [registry],
    });
  const spans =
    (registry.getSingleMetric('mdso_spans_ingested_total') as Counter<'outcome'> | undefined) ??
    new Counter({
      name: 'mdso_spans_ingested_total',
      help: 'Failure spans the MDSO poller stored, by outcome (accepted: new; duplicate: re-sent by a later poll, stored before; rejected). Not in otlp_ingest_items_total, which counts OTLP clients',
      labelNames: ['outcome'],
      registers: [registry],
    });
  return {
    observePoll: (seconds, outcome) => duration.observe({ outcome }, seconds),
    apiRequest: (endpoint, status) => requests.inc({ endpoint, status }),
    spansIngested: ({ accepted, duplicates, rejected }) => {
      if (accepted > duplicates) spans.inc({ outcome: 'accepted' }, accepted - duplicates);
      if (duplicates) spans.inc({ outcome: 'duplicate' }, duplicates);
      if (rejected) spans.inc({ outcome: 'rejected' }, rejected);
    },
  };
}
