import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClockOffset } from '@correlation-station/api-schema';
import {
  ClockSkewEvidence,
  checkBridgeOrder,
  serviceCalls,
  type TimedSpan,
} from '../../src/stitching/clock-skew.js';

const CLIENT = 3;
const SERVER = 2;
const INTERNAL = 1;

let nextId = 0;
const span = (
  service: string,
  kind: number,
  startMs: number,
  endMs: number,
  parent: TimedSpan | null = null,
): TimedSpan => ({
  spanId: (++nextId).toString(16).padStart(16, '0'),
  parentSpanId: parent?.spanId ?? '',
  service,
  kind,
  startMs,
  endMs,
});

/** A call from one service to another: the server span as the server's clock reads it. */
function call(from: string, to: string, clientMs: [number, number], serverMs: [number, number]) {
  const client = span(from, CLIENT, ...clientMs);
  return { client, server: span(to, SERVER, serverMs[0], serverMs[1], client) };
}

const offset = (
  lowMs: number,
  highMs: number,
  calls: number,
  conflicting = false,
): ClockOffset => ({ lowMs, highMs, calls, conflicting });

describe('serviceCalls', () => {
  it('pairs each server span with its client parent of another service, and nothing else', () => {
    const root = span('beorn', SERVER, 0, 100);
    const out = span('beorn', CLIENT, 10, 90, root);
    const inPalantir = span('palantir', SERVER, 20, 80, out);
    const sameService = span('beorn', SERVER, 30, 40, span('beorn', CLIENT, 25, 45, root));
    const fromInternal = span('arda', SERVER, 50, 60, span('beorn', INTERNAL, 45, 65, root));
    const orphan = { ...span('arda', SERVER, 50, 60), parentSpanId: 'ffffffffffffffff' };
    const calls = serviceCalls([root, out, inPalantir, sameService, fromInternal, orphan]);
    assert.deepEqual(
      calls.map(c => `${c.client.service}->${c.server.service}`),
      ['beorn->palantir'],
    );
  });
});

describe('ClockSkewEvidence', () => {
  const cases: {
    name: string;
    calls: ReturnType<typeof call>[];
    from: string;
    to: string;
    want: ClockOffset | null;
  }[] = [
    {
      name: 'one call: the server may be ahead by what the client waited before, or behind by what it waited after',
      calls: [call('beorn', 'palantir', [0, 100], [10, 80])],
      from: 'beorn',
      to: 'palantir',
      want: offset(-20, 10, 1),
    },
    {
      name: 'a server span that starts before its client: that server runs behind',
      calls: [call('beorn', 'arda', [1000, 1100], [700, 750])],
      from: 'beorn',
      to: 'arda',
      want: offset(-350, -300, 1),
    },
    {
      name: 'several calls narrow the bounds',
      calls: [
        call('beorn', 'arda', [0, 100], [-290, -210]),
        call('beorn', 'arda', [1000, 1050], [705, 745]),
      ],
      from: 'beorn',
      to: 'arda',
      want: offset(-305, -295, 2),
    },
    {
      name: 'asked the other way round: the negation',
      calls: [call('beorn', 'arda', [1000, 1100], [700, 750])],
      from: 'arda',
      to: 'beorn',
      want: offset(300, 350, 1),
    },
    {
      name: 'calls both ways bound one offset',
      calls: [
        call('beorn', 'arda', [0, 100], [-300, -250]),
        call('arda', 'beorn', [-200, -100], [110, 190]),
      ],
      from: 'beorn',
      to: 'arda',
      want: offset(-310, -300, 2),
    },
    {
      name: 'services no call connects have no offset',
      calls: [call('beorn', 'palantir', [0, 100], [10, 80])],
      from: 'beorn',
      to: 'mdso',
      want: null,
    },
    {
      name: 'a chain of calls adds its offsets, as sure as its least-observed step',
      calls: [
        call('beorn', 'palantir', [0, 100], [10, 80]),
        call('palantir', 'arda', [20, 60], [-480, -470]),
        call('palantir', 'arda', [200, 260], [-300, -250]),
      ],
      from: 'beorn',
      to: 'arda',
      want: offset(-20 + -510, 10 + -500, 1),
    },
    {
      name: 'calls that disagree still bound the offset between them, marked',
      calls: [
        call('beorn', 'arda', [0, 100], [50, 90]),
        call('beorn', 'arda', [1000, 1100], [900, 950]),
      ],
      from: 'beorn',
      to: 'arda',
      want: offset(-100, -10, 2, true),
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(ClockSkewEvidence.of(c.calls).between(c.from, c.to), c.want);
    });

  it('takes the shortest chain, whichever service names come first', () => {
    // beorn to arda directly, and through palantir: the direct calls decide.
    const e = ClockSkewEvidence.of([
      call('beorn', 'arda', [0, 100], [10, 90]),
      call('beorn', 'palantir', [0, 100], [510, 590]),
      call('palantir', 'arda', [0, 100], [10, 90]),
    ]);
    assert.deepEqual(e.between('beorn', 'arda'), offset(-10, 10, 1));
    assert.deepEqual(e.between('arda', 'arda'), offset(0, 0, 0));
  });

  it('lists each pair of services once, in name order', () => {
    const e = ClockSkewEvidence.of([
      call('palantir', 'beorn', [0, 100], [10, 90]),
      call('beorn', 'palantir', [0, 100], [5, 95]),
    ]);
    assert.deepEqual(e.pairsSeen(), [{ from: 'beorn', to: 'palantir', offset: offset(-5, 5, 2) }]);
  });
});

describe('checkBridgeOrder', () => {
  const cases: { name: string; gapMs: number; offset: ClockOffset | null; want: string }[] = [
    { name: 'no calls between the services', gapMs: 500, offset: null, want: 'unknown' },
    {
      name: 'a gap no offset the calls allow can reverse',
      gapMs: 500,
      offset: offset(-20, 10, 3),
      want: 'consistent',
    },
    {
      name: 'a gap exactly the largest offset',
      gapMs: 10,
      offset: offset(-20, 10, 3),
      want: 'consistent',
    },
    { name: 'a gap within the offsets', gapMs: 5, offset: offset(-20, 10, 3), want: 'uncertain' },
    {
      name: 'a child clock ahead by more than the gap',
      gapMs: 200,
      offset: offset(300, 350, 1),
      want: 'reversed',
    },
    {
      name: 'a child clock behind: the gap only grows',
      gapMs: 0,
      offset: offset(-350, -300, 1),
      want: 'consistent',
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const check = checkBridgeOrder(c.gapMs, c.offset);
      assert.equal(check.order, c.want);
      assert.deepEqual(check.childClockOffset, c.offset ?? undefined);
    });
});
