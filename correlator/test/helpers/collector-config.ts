// The OpenTelemetry Collector configuration of the end-to-end test through a real collector
// (e2e/python-collector.test.ts), made per run for its ports. It is also the README's example of
// a collector forwarding to the correlator, so it stays what a user would write: OTLP in, batch,
// OTLP/HTTP out to the correlator's base URL.
import { stringify } from 'yaml';

export interface CollectorPorts {
  /** Loopback port of the collector's OTLP/HTTP receiver (the apps' OTEL_EXPORTER_OTLP_ENDPOINT). */
  receiverPort: number;
  /** The correlator's base URL, e.g. http://127.0.0.1:41234 */
  correlatorUrl: string;
}

/** Collector YAML: traces to `endpoint` + /v1/traces gzipped, logs to /api/otlp/v1/logs plain. */
export function collectorConfig({ receiverPort, correlatorUrl }: CollectorPorts): string {
  return stringify({
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${receiverPort}` } } } },
    // A short timeout, so the test's few spans leave within a fraction of a second.
    processors: { batch: { timeout: '200ms' } },
    exporters: {
      // Two ways a user points the exporter at the correlator, each covered by one signal: the
      // base URL, to which the exporter appends /v1/traces (compressed, the exporter's default);
      // and a full per-signal URL on the alternative /api/otlp prefix, uncompressed.
      'otlp_http/traces': { endpoint: correlatorUrl, compression: 'gzip' },
      'otlp_http/logs': { logs_endpoint: `${correlatorUrl}/api/otlp/v1/logs`, compression: 'none' },
    },
    service: {
      // The collector's own metrics would listen on :8888, shared by every run on the machine.
      telemetry: { metrics: { level: 'none' } },
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp_http/traces'] },
        logs: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp_http/logs'] },
      },
    },
  });
}
