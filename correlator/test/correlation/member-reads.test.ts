// Planning a key group whole reads every member's state. Those reads were kept until the batch
// ended, members read back from the store joining hot state: on a store that held earlier
// circuits, a batch of 8 traces in 8 circuits of ~300 members held thousands of states of 100
// spans at once, and a 64 MiB heap died of it (RV7). Now a read to plan takes nothing into hot
// state: a batch holds one group's members at a time, and the plan is the same.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorrelationEngine, newTraceState, type StateLoader } from '../../src/correlation/engine.js';
import { correlationId } from '../../src/correlation/ids.js';
import { nothingStored } from '../../src/correlation/nothing-stored.js';
import type { KeyGroup, TraceState } from '../../src/correlation/types.js';
import type { DecodedResourceScope, DecodedSpan } from '../../src/otlp/decoded.js';
import { decodedResource } from '../fixtures/decoded-resource.js';

const MEMBERS = 200;
const SERVICES = ['beorn', 'mdso', 'arda'];
const BASE_MS = Date.now() - 3_600_000;
const traceId = (n: number) => n.toString(16).padStart(32, '0');

/** Member n as the store keeps it: one entry span of its service, naming circuit C. */
function storedMember(n: number): TraceState {
  const t = newTraceState(traceId(n));
  const startMs = BASE_MS + n * 1000;
  const service = SERVICES[n % 3]!;
  Object.assign(t, { services: [service], firstMs: startMs, lastMs: startMs + 500, spanLastMs: startMs + 500, spanCount: 1 });
  t.entry = { spanId: n.toString(16).padStart(16, '0'), service, name: 'op', startMs, endMs: startMs + 500, hasParent: false };
  t.keys = { circuit_id: 'C' };
  return t;
}

function storedGroup(): KeyGroup {
  const ids = Array.from({ length: MEMBERS }, (_, n) => traceId(n));
  return {
    mapKey: 'circuit_id\u0000C',
    id: correlationId('circuit_id_match', 'C', BASE_MS),
    method: 'circuit_id_match',
    key: 'circuit_id',
    value: 'C',
    confidence: 0.9,
    firstMs: BASE_MS,
    lastMs: BASE_MS + (MEMBERS - 1) * 1000 + 500,
    traceIds: ids,
    traceSet: new Set(ids),
    services: SERVICES,
    spanCount: MEMBERS,
    logCount: 0,
    looseLogs: 0,
    bridges: new Map(),
    persistedMembers: MEMBERS,
    planned: false,
    reachUnmerged: false,
  };
}

const resource = (serviceName: string): DecodedResourceScope => decodedResource(serviceName);

describe('reading members to plan', () => {
  it('takes the members read back from the store into hot state no more, and plans as before', () => {
    const loaded: string[] = [];
    const loader: StateLoader = {
      ...nothingStored,
      loadTraces: ids => {
        loaded.push(...ids);
        return ids.map(id => parseInt(id, 16)).filter(n => n < MEMBERS).map(storedMember);
      },
      loadGroup: (key, value) => (key === 'circuit_id' && value === 'C' ? storedGroup() : null),
    };
    const e = new CorrelationEngine(
      { windowMs: 60_000, maxTrackedTraces: 10_000, maxTrackedKeys: 10_000, maxTracesPerCircuit: 500, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'], liveEntries: 64 },
      loader,
    );
    const startMs = BASE_MS + MEMBERS * 1000;
    const newcomer: DecodedSpan = {
      traceId: traceId(MEMBERS),
      spanId: 'f'.repeat(16),
      parentSpanId: '',
      name: 'op',
      kind: 2,
      startMs,
      endMs: startMs + 10,
      statusCode: 0,
      keys: { circuit_id: 'C' },
      links: null,
      bytes: new Uint8Array(),
      resource: resource('beorn'),
      synthetic: false,
    };
    const { writes } = e.observe([newcomer], []);
    assert.ok(loaded.length >= MEMBERS, `the members were read to plan (${loaded.length} reads)`);
    // The stored group had no bridges: every member after the first is planned, from its states.
    assert.equal(writes.bridgesAdded.length, MEMBERS);
    assert.equal(
      writes.bridgesAdded.find(b => b.childTraceId === traceId(MEMBERS))?.traceId,
      traceId(MEMBERS - 1),
      'the newcomer hangs from the latest member, of another service',
    );
    const tracked = e.stats().trackedTraces;
    assert.ok(tracked <= 2, `hot state holds the batch's trace, not the ${MEMBERS} members read (${tracked})`);
  });
});
