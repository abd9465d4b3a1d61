// A demo activation in OTLP/JSON: beorn → MDSO → arda as three disconnected traces (MDSO does
// not propagate context), with logs, the way the user's scenario 1 describes it.
import { createHash } from 'node:crypto';

type Kv = { key: string; value: { stringValue: string } | { intValue: string } };

const kv = (key: string, value: string): Kv => ({ key, value: { stringValue: value } });
const hex = (seed: string, len: number) => createHash('sha256').update(seed).digest('hex').slice(0, len);
const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

interface DemoSpan {
  name: string;
  kind: number;
  start: number;
  end: number;
  parent?: string;
  error?: string;
  attrs?: Kv[];
}

function service(name: string, circuitId: string, traceSeed: string, baseMs: number, spans: DemoSpan[]) {
  const traceId = hex(`${traceSeed}:${circuitId}:${baseMs}`, 32);
  const id = (n: string) => hex(`${traceId}:${n}`, 16);
  return {
    traceId,
    resourceSpans: {
      resource: { attributes: [kv('service.name', name), kv('deployment.environment.name', 'demo')] },
      scopeSpans: [
        {
          scope: { name: `${name}.demo`, version: '1' },
          spans: spans.map(s => ({
            traceId,
            spanId: id(s.name),
            ...(s.parent ? { parentSpanId: id(s.parent) } : {}),
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: nanos(baseMs + s.start),
            endTimeUnixNano: nanos(baseMs + s.end),
            attributes: [kv('circuit_id', circuitId), ...(s.attrs ?? [])],
            status: s.error ? { code: 2, message: s.error } : { code: 0 },
          })),
        },
      ],
    },
    spanId: id,
  };
}

export interface DemoCircuit {
  circuitId: string;
  traces: { traceId: string; service: string }[];
  traceRequest: unknown;
  logRequest: unknown;
}

export function buildDemoCircuit(circuitId: string, baseMs: number, failed = false): DemoCircuit {
  const beorn = service('beorn', circuitId, 'beorn', baseMs, [
    { name: 'POST /beorn/api/v1/service/create', kind: 2, start: 0, end: 1800, attrs: [kv('http.request.method', 'POST'), kv('topology_id', '001461')] },
    { name: 'POST /bpocore/market/api/v1/resources', kind: 3, start: 40, end: 160, parent: 'POST /beorn/api/v1/service/create' },
  ]);
  const mdso = service('mdso', circuitId, 'mdso', baseMs, [
    { name: 'mdso.product.CircuitDetailsCollector', kind: 1, start: 220, end: 1500, attrs: [kv('mdso.product_name', 'CircuitDetailsCollector')] },
    { name: 'GET /arda/v1/topology', kind: 3, start: 300, end: 900, parent: 'mdso.product.CircuitDetailsCollector' },
    {
      name: 'mdso.step.pe_service_provisioner',
      kind: 1,
      start: 950,
      end: 1450,
      parent: 'mdso.product.CircuitDetailsCollector',
      ...(failed ? { error: 'MDSO | Connectivity Error - Unreachable Live Device: device: AUSDTXIR2CW communication state: UNAVAILABLE' } : {}),
    },
  ]);
  const arda = service('arda', circuitId, 'arda', baseMs, [
    { name: 'get_topology', kind: 2, start: 340, end: 860, attrs: [kv('http.route', '/arda/v1/topology')] },
    { name: 'SELECT granite.topology', kind: 3, start: 400, end: 700, parent: 'get_topology' },
  ]);
  const log = (svc: string, traceId: string, spanId: string, atMs: number, body: string, severity = 'INFO') => ({
    resource: { attributes: [kv('service.name', svc)] },
    scopeLogs: [
      {
        scope: { name: `${svc}.demo` },
        logRecords: [
          {
            timeUnixNano: nanos(baseMs + atMs),
            severityNumber: severity === 'ERROR' ? 17 : 9,
            severityText: severity,
            body: { stringValue: body },
            traceId,
            spanId,
            attributes: [kv('circuit_id', circuitId)],
          },
        ],
      },
    ],
  });
  return {
    circuitId,
    traces: [
      { traceId: beorn.traceId, service: 'beorn' },
      { traceId: mdso.traceId, service: 'mdso' },
      { traceId: arda.traceId, service: 'arda' },
    ],
    traceRequest: { resourceSpans: [beorn.resourceSpans, mdso.resourceSpans, arda.resourceSpans] },
    logRequest: {
      resourceLogs: [
        log('beorn', beorn.traceId, beorn.spanId('POST /beorn/api/v1/service/create'), 10, `service create requested circuit_id=${circuitId}`),
        log('mdso', mdso.traceId, mdso.spanId('mdso.product.CircuitDetailsCollector'), 230, `Starting execution for scripts.circuitDetailsCollector.Activate circuit_id=${circuitId}`),
        log('arda', arda.traceId, arda.spanId('get_topology'), 350, 'topology lookup'),
        ...(failed
          ? [log('mdso', mdso.traceId, mdso.spanId('mdso.step.pe_service_provisioner'), 1440, 'Error in PeServiceProvisioner, Unable to connect to device at 10.1.2.3', 'ERROR')]
          : []),
      ],
    },
  };
}
