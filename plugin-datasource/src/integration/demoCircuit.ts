/**
 * A demo circuit as standard OTLP/JSON: beorn → mdso → arda, three traces with no parent links
 * between them (the orchestrator does not propagate context), every span and log carrying circuit_id.
 */
export interface DemoCircuit {
  circuitId: string;
  traceIds: { beorn: string; mdso: string; arda: string };
  errorSpanId: string;
}

const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
const nanos = (ms: number) => `${Math.round(ms)}000000`;
const hex = (length: number) => Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join('');

export function demoCircuit(): DemoCircuit {
  return {
    circuitId: `CKT-IT-${hex(8).toUpperCase()}`,
    traceIds: { beorn: hex(32), mdso: hex(32), arda: hex(32) },
    errorSpanId: hex(16),
  };
}

interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  error?: string;
}

function otlpSpan(circuitId: string, s: SpanSpec) {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId ?? '',
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: nanos(s.startMs),
    endTimeUnixNano: nanos(s.startMs + s.durationMs),
    attributes: [attr('circuit_id', circuitId)],
    status: s.error ? { code: 2, message: s.error } : { code: 1 },
  };
}

function resourceSpans(service: string, circuitId: string, spans: SpanSpec[]) {
  return {
    resource: { attributes: [attr('service.name', service)] },
    scopeSpans: [
      { scope: { name: 'demo-circuit', version: '1.0.0' }, spans: spans.map((s) => otlpSpan(circuitId, s)) },
    ],
  };
}

export function demoTraces(demo: DemoCircuit, startMs: number) {
  const { beorn, mdso, arda } = demo.traceIds;
  const root = { beorn: hex(16), mdso: hex(16), arda: hex(16) };
  return {
    resourceSpans: [
      resourceSpans('beorn', demo.circuitId, [
        { traceId: beorn, spanId: root.beorn, name: 'POST /circuits/activate', kind: 2, startMs, durationMs: 900 },
        {
          traceId: beorn,
          spanId: hex(16),
          parentSpanId: root.beorn,
          name: 'submit to mdso',
          kind: 3,
          startMs: startMs + 20,
          durationMs: 60,
        },
      ]),
      resourceSpans('mdso', demo.circuitId, [
        {
          traceId: mdso,
          spanId: root.mdso,
          name: 'activate resource',
          kind: 2,
          startMs: startMs + 100,
          durationMs: 600,
        },
        {
          traceId: mdso,
          spanId: demo.errorSpanId,
          parentSpanId: root.mdso,
          name: 'ServiceMapper',
          kind: 1,
          startMs: startMs + 150,
          durationMs: 300,
          error: 'NSO timeout',
        },
      ]),
      resourceSpans('arda', demo.circuitId, [
        { traceId: arda, spanId: root.arda, name: 'provision port', kind: 2, startMs: startMs + 500, durationMs: 200 },
      ]),
    ],
  };
}

export function demoLogs(demo: DemoCircuit, startMs: number) {
  const record = (ms: number, severity: string, number: number, body: string, traceId: string) => ({
    timeUnixNano: nanos(ms),
    severityText: severity,
    severityNumber: number,
    body: { stringValue: body },
    traceId,
    attributes: [attr('circuit_id', demo.circuitId)],
  });
  const logs = (service: string, records: Array<ReturnType<typeof record>>) => ({
    resource: { attributes: [attr('service.name', service)] },
    scopeLogs: [{ scope: { name: 'demo-circuit' }, logRecords: records }],
  });
  return {
    resourceLogs: [
      logs('beorn', [record(startMs + 10, 'INFO', 9, 'activation requested', demo.traceIds.beorn)]),
      logs('mdso', [
        record(startMs + 120, 'INFO', 9, 'activation started', demo.traceIds.mdso),
        record(startMs + 440, 'ERROR', 17, 'NSO timeout while activating', demo.traceIds.mdso),
      ]),
      logs('arda', [record(startMs + 600, 'INFO', 9, 'port provisioned', demo.traceIds.arda)]),
    ],
  };
}

/**
 * A second circuit whose arda job links the beorn request that queued it (an OTLP span link, not a
 * parent): the service graph draws that link as its own hop, beorn → arda.
 */
export function linkedPairTraces(circuitId: string, startMs: number) {
  const beorn = { traceId: hex(32), spanId: hex(16) };
  const arda = { traceId: hex(32), spanId: hex(16) };
  const span = (ids: { traceId: string; spanId: string }, name: string, atMs: number) =>
    otlpSpan(circuitId, { ...ids, name, kind: 2, startMs: atMs, durationMs: 50 });
  return {
    traceIds: { beorn: beorn.traceId, arda: arda.traceId },
    body: {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', 'beorn')] },
          scopeSpans: [{ scope: { name: 'demo-circuit' }, spans: [span(beorn, 'POST /circuits/queue', startMs)] }],
        },
        {
          resource: { attributes: [attr('service.name', 'arda')] },
          scopeSpans: [
            {
              scope: { name: 'demo-circuit' },
              spans: [
                {
                  ...span(arda, 'run queued job', startMs + 200),
                  links: [{ traceId: beorn.traceId, spanId: beorn.spanId, attributes: [] }],
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

/** Posts OTLP/JSON, retrying when the correlator sheds load (429/503 with Retry-After) as a client should. */
export async function post(baseUrl: string, path: string, body: unknown, headers: Record<string, string>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      return;
    }
    const text = await response.text();
    if ((response.status === 429 || response.status === 503) && attempt < 20) {
      const retryAfterSeconds = Number(response.headers.get('retry-after')) || 0.5;
      await new Promise((r) => setTimeout(r, Math.min(retryAfterSeconds, 5) * 1000));
      continue;
    }
    throw new Error(`POST ${path} → ${response.status} ${text}`);
  }
}

/** Sends the demo circuit and waits until the correlator lists it with both bridges. */
export async function loadDemoCircuit(
  baseUrl: string,
  demo: DemoCircuit,
  startMs: number,
  headers: Record<string, string> = {}
) {
  await post(baseUrl, '/v1/traces', demoTraces(demo, startMs), headers);
  await post(baseUrl, '/v1/logs', demoLogs(demo, startMs), headers);
  for (let attempt = 0; attempt < 200; attempt++) {
    const response = await fetch(`${baseUrl}/api/circuits?query=${demo.circuitId}`, { headers });
    const body = (await response.json()) as { circuits?: Array<{ bridgeCount: number; logCount: number }> };
    const circuit = body.circuits?.[0];
    if (circuit && circuit.bridgeCount >= 2 && circuit.logCount >= 4) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the correlator never listed ${demo.circuitId} with its bridges and logs`);
}
