import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BridgePlan } from '../../src/correlation/types.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { bridgeSpanName, encodeBridgeSpan } from '../../src/stitching/bridge-span.js';

const base: BridgePlan = {
  spanId: 'a1b2c3d4e5f60718',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  parentSpanId: 'b7ad6b7169203331',
  parentService: 'sense-orchestrator',
  parentStartMs: 1_764_000_000_123.456,
  childTraceId: '1bf7651916cd43dd8448eb211c80319d',
  childSpanId: 'c7ad6b7169203332',
  childService: 'mdso-bpo',
  childStartMs: 1_764_000_000_456.789,
  key: 'circuit_id',
  value: '51.KGFN.777777..CHTR',
  method: 'circuit_id_match',
  confidence: 0.9,
  basis: 'named_call',
};

/** Whole microseconds as decimal nanoseconds, computed exactly; a time before the epoch is zero. */
const nanos = (ms: number) => (BigInt(Math.max(0, Math.round(ms * 1000))) * 1000n).toString();

/** The message as protobufjs builds and encodes it from an object: the reference for the bytes. */
function reference(plan: BridgePlan): Uint8Array {
  const { Span } = otlpTypes();
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  return Span.encode(
    Span.fromObject({
      traceId: Buffer.from(plan.traceId, 'hex'),
      spanId: Buffer.from(plan.spanId, 'hex'),
      parentSpanId: Buffer.from(plan.parentSpanId, 'hex'),
      name: bridgeSpanName(plan),
      kind: 1,
      startTimeUnixNano: nanos(plan.parentStartMs),
      endTimeUnixNano: nanos(Math.max(plan.childStartMs, plan.parentStartMs)),
      attributes: [
        str('bridge.type', 'synthetic'),
        str('bridge.parent_service', plan.parentService),
        str('bridge.child_service', plan.childService),
        str('bridge.child_trace_id', plan.childTraceId),
        str(plan.key, plan.value),
        str('correlation.method', plan.method),
        ...(plan.basis === 'unknown' ? [] : [str('bridge.basis', plan.basis)]),
        { key: 'correlation.confidence', value: { doubleValue: plan.confidence } },
      ],
      links: [
        {
          traceId: Buffer.from(plan.childTraceId, 'hex'),
          spanId: Buffer.from(plan.childSpanId, 'hex'),
          attributes: [str('link.type', 'bridge_child'), str('correlation.method', plan.method)],
        },
      ],
      status: { code: 0 },
    }),
  ).finish();
}

describe('encodeBridgeSpan', () => {
  const cases: [string, Partial<BridgePlan>][] = [
    ['a typical bridge', {}],
    ['a child that starts before its parent (the span ends where it starts)', { childStartMs: 1_764_000_000_000 }],
    ['times with sub-microsecond noise and at the epoch', { parentStartMs: 0.0004, childStartMs: 1.0006 }],
    ['a time before the epoch (written as zero, that is left out)', { parentStartMs: -5, childStartMs: -1 }],
    ['times far in the future (nanoseconds above 2^63 / 1000)', { parentStartMs: 9_000_000_000_000.5, childStartMs: 9_000_000_000_001 }],
    ['non-ASCII services and values', { parentService: 'sénse-api', childService: '編排器', value: 'ckt-ü-1' }],
    ['values longer than 127 bytes (two-byte lengths)', { value: 'v'.repeat(300), childService: 's'.repeat(200) }],
    ['another key and confidence', { key: 'resource_id', value: '8f3c0c39-3c7a-4b8e-9d7e-2b8c5d5f1a00', method: 'resource_id_match', confidence: 0.85 }],
    ['confidence 0', { confidence: 0 }],
    ['confidence 1', { confidence: 1 }],
    ['a guess on time alone', { basis: 'time_only' }],
    ['a row stored before the basis was kept (no bridge.basis)', { basis: 'unknown' }],
  ];
  for (const [name, over] of cases) {
    it(`writes the bytes protobufjs writes for the same message: ${name}`, () => {
      const plan = { ...base, ...over };
      assert.deepEqual(Buffer.from(encodeBridgeSpan(plan)), Buffer.from(reference(plan)));
    });
  }

  it('writes each value of a key the hop\'s groups and traces name, an array where there are several', () => {
    const { Span } = otlpTypes();
    const groups = [
      { key: 'circuit_id', value: 'CKT-B' },
      { key: 'circuit_id', value: base.value },
      { key: 'circuit_id', value: 'CKT-A' },
      { key: 'product_id', value: 'PROD-2' },
      { key: 'request_id', value: 'REQ-9' },
    ] as const;
    const keys = { product_id: ['PROD-3'], resource_id: ['RES-1', 'RES-2'], request_id: ['REQ-9'] };
    const span = Span.toObject(Span.decode(encodeBridgeSpan(base, keys, groups)), { longs: String, bytes: String }) as {
      attributes: { key: string; value: { stringValue?: string; arrayValue?: { values: { stringValue: string }[] } } }[];
    };
    const keyAttributes = span.attributes
      .filter(a => ['circuit_id', 'product_id', 'resource_id', 'request_id'].includes(a.key))
      .map(a => [a.key, a.value.arrayValue ? a.value.arrayValue.values.map(v => v.stringValue) : a.value.stringValue]);
    assert.deepEqual(keyAttributes, [
      // The plan's value first, the others sorted, each once.
      ['circuit_id', [base.value, 'CKT-A', 'CKT-B']],
      // Every value the traces and the groups name, sorted: a group's value the traces already
      // name is not repeated.
      ['product_id', ['PROD-2', 'PROD-3']],
      ['resource_id', ['RES-1', 'RES-2']],
      ['request_id', 'REQ-9'],
    ]);
    // With no other group the bytes are those a view serves.
    assert.deepEqual(Buffer.from(encodeBridgeSpan(base, keys, [])), Buffer.from(encodeBridgeSpan(base, keys)));
  });

  it('decodes to the bridge it was made from', () => {
    const { Span } = otlpTypes();
    const span = Span.toObject(Span.decode(encodeBridgeSpan(base)), { longs: String, bytes: String }) as {
      name: string;
      startTimeUnixNano: string;
      endTimeUnixNano: string;
      attributes: { key: string; value: { stringValue?: string; doubleValue?: number } }[];
      links: { traceId: string }[];
    };
    assert.equal(span.name, 'sense-orchestrator_to_mdso-bpo_bridge');
    assert.equal(span.startTimeUnixNano, '1764000000123456000');
    assert.equal(span.endTimeUnixNano, '1764000000456789000');
    assert.deepEqual(
      span.attributes.map(a => [a.key, a.value.stringValue ?? a.value.doubleValue]),
      [
        ['bridge.type', 'synthetic'],
        ['bridge.parent_service', 'sense-orchestrator'],
        ['bridge.child_service', 'mdso-bpo'],
        ['bridge.child_trace_id', base.childTraceId],
        ['circuit_id', '51.KGFN.777777..CHTR'],
        ['correlation.method', 'circuit_id_match'],
        ['bridge.basis', 'named_call'],
        ['correlation.confidence', 0.9],
      ],
    );
    assert.equal(Buffer.from(span.links[0]!.traceId, 'base64').toString('hex'), base.childTraceId);
  });

  it('writes bridge.basis for every basis but unknown (a row stored before it was kept)', () => {
    const { Span } = otlpTypes();
    const basisOf = (plan: BridgePlan) =>
      (Span.toObject(Span.decode(encodeBridgeSpan(plan))) as { attributes: { key: string; value: { stringValue?: string } }[] }).attributes.find(a => a.key === 'bridge.basis')?.value.stringValue;
    for (const basis of ['named_call', 'call', 'running_span', 'time_only'] as const) assert.equal(basisOf({ ...base, basis }), basis);
    assert.equal(basisOf({ ...base, basis: 'unknown' }), undefined);
  });
});
