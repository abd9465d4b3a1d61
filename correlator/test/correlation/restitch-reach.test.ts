// A trace joining a large episode must cost the same whatever the episode holds: restitch plans
// only the children the batch's changes reach, from the episode's kept planning order, reading
// the states of those children and their parents, not of every member.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorrelationEngine } from '../../src/correlation/engine.js';
import { nothingStored } from '../../src/correlation/nothing-stored.js';
import type { TraceState } from '../../src/correlation/types.js';
import type { DecodedResourceScope, DecodedSpan } from '../../src/otlp/decoded.js';
import type { BridgeRow } from '../../src/store/derived-writes.js';
import { planBridges } from '../../src/stitching/bridge-planner.js';

const SERVICES = ['beorn', 'mdso', 'arda'];
const resource = (serviceName: string): DecodedResourceScope => ({
  serviceName,
  keys: null,
  attributes: {},
  resourceBytes: new Uint8Array(),
  scopeName: '',
  scopeVersion: '',
});

/** Trace n of the circuit: an entry naming it, 100 ms after the one before, services rotating. */
function entry(n: number): DecodedSpan {
  const startMs = 1_000_000 + n * 100;
  return {
    traceId: (n + 1).toString(16).padStart(32, '0'),
    spanId: (n + 1).toString(16).padStart(16, '0'),
    parentSpanId: '',
    name: 'op',
    kind: 2,
    startMs,
    endMs: startMs + 50,
    statusCode: 0,
    keys: { circuit_id: 'BIG' },
    links: null,
    bytes: new Uint8Array(),
    resource: resource(SERVICES[n % SERVICES.length]!),
    synthetic: false,
  };
}

type MemberStates = (ids: readonly string[]) => TraceState[];

describe('restitch of a planned episode', () => {
  it('reads the states of the traces a new trace can bridge with, not of every member', () => {
    const engine = new CorrelationEngine(
      { windowMs: 60_000, maxTrackedTraces: 1000, maxTrackedKeys: 1000, maxTracesPerCircuit: 500, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'], now: () => 0 },
      nothingStored,
    );
    const MEMBERS = 300;
    const added: BridgeRow[] = [];
    for (let n = 0; n < MEMBERS; n++) added.push(...engine.observe([entry(n)], []).writes.bridgesAdded);
    // Every read of member states goes through memberStates: counted for the next trace only.
    const proto = CorrelationEngine.prototype as unknown as { memberStates: MemberStates };
    const memberStates = proto.memberStates;
    let read = 0;
    proto.memberStates = function (this: CorrelationEngine, ids) {
      read += ids.length;
      return memberStates.call(this, ids);
    };
    let last: BridgeRow[];
    try {
      last = engine.observe([entry(MEMBERS)], []).writes.bridgesAdded;
    } finally {
      proto.memberStates = memberStates;
    }
    assert.ok(read < 20, `read ${read} member states for one new trace of ${MEMBERS + 1}`);
    // The one new bridge is the one planning every member gives it.
    assert.equal(last.length, 1);
    assert.equal(last[0]!.traceId, entry(MEMBERS - 1).traceId, 'from the trace just before, of another service');
    // And every bridge written so far is the plan of the whole episode.
    const states = engine['memberStates' as keyof CorrelationEngine] as unknown as MemberStates;
    const all = states.call(engine, Array.from({ length: MEMBERS + 1 }, (_, n) => entry(n).traceId));
    const planned = planBridges('circuit_id', 'BIG', all, 60_000);
    const written = new Map([...added, ...last].map(b => [b.childTraceId, b.spanId]));
    assert.deepEqual(written, new Map([...planned].map(([child, p]) => [child, p.spanId])));
  });
});
