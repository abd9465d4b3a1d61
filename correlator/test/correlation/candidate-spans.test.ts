import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { CandidateSpans, MAX_CANDIDATES } from '../../src/correlation/candidate-spans.js';
import type { CandidateSpan } from '../../src/correlation/types.js';

const T = 1_795_000_000_123.456;

test('candidate spans come back as they were pushed, whatever the services and kinds', () => {
  const cases: CandidateSpan[][] = [
    [],
    [{ spanId: 'a1a1a1a1a1a1a1a1', service: 'beorn', startMs: T, endMs: T + 40.5, kind: 3 }],
    [
      { spanId: '0000000000000001', service: 'beorn', startMs: T, endMs: T + 1, kind: 2 },
      { spanId: '0000000000000002', service: 'mdso', startMs: T + 2, endMs: T + 3, kind: 1 },
      { spanId: '0000000000000003', service: 'beorn', startMs: T + 4, endMs: T + 5, kind: 5 },
      // A kind no SDK sends still round-trips (the planner treats it as not a call).
      { spanId: '0000000000000004', service: 'arda', startMs: 0, endMs: 0, kind: 4_294_967_295 },
    ],
  ];
  for (const spans of cases) {
    const list = CandidateSpans.of(spans);
    assert.equal(list.length, spans.length);
    assert.deepEqual(
      Array.from({ length: list.length }, (_, i) => list.at(i)),
      spans,
    );
    spans.forEach((s, i) => {
      assert.equal(list.spanId(i), s.spanId);
      assert.equal(list.startMs(i), s.startMs);
      assert.equal(list.endMs(i), s.endMs);
      assert.equal(list.kind(i), s.kind);
    });
  }
});

test('a call keeps where it went, a service name or a host, with any kind and service', () => {
  const spans: CandidateSpan[] = [
    { spanId: '0000000000000001', service: 'beorn', startMs: T, endMs: T + 1, kind: 2 },
    { spanId: '0000000000000002', service: 'beorn', startMs: T + 1, endMs: T + 9, kind: 3, destination: { name: 'mdso', isHost: false } },
    { spanId: '0000000000000003', service: 'beorn', startMs: T + 2, endMs: T + 3, kind: 4, destination: { name: 'mdso', isHost: true } },
    // A destination that is also a service of the trace shares its name.
    { spanId: '0000000000000004', service: 'palantir', startMs: T + 3, endMs: T + 4, kind: 3, destination: { name: 'beorn', isHost: false } },
    // The widest packing: the greatest kind, a host.
    { spanId: '0000000000000005', service: 'arda', startMs: T + 4, endMs: T + 5, kind: 4_294_967_295, destination: { name: 'arda.example.net', isHost: true } },
  ];
  const list = CandidateSpans.of(spans);
  assert.deepEqual(Array.from({ length: list.length }, (_, i) => list.at(i)), spans);
  assert.deepEqual(
    spans.map((_, i) => [list.destinationName(i), list.destinationIsHost(i)]),
    [['', false], ['mdso', false], ['mdso', true], ['beorn', false], ['arda.example.net', true]],
  );
  assert.deepEqual(list.parts()[2], ['beorn', 'mdso', 'palantir', 'arda', 'arda.example.net']);
});

test('replacing candidates again and again keeps every one right, and drops names no longer used', () => {
  // Each replacement brings a new service and destination: far more names than the packing has room for.
  const model: CandidateSpan[] = Array.from({ length: 128 }, (_, i) => ({
    spanId: i.toString(16).padStart(16, '0'),
    service: `s${i % 7}`,
    startMs: T + i,
    endMs: T + i + 1,
    kind: i % 6,
    ...(i % 3 === 0 ? { destination: { name: `d${i % 5}`, isHost: i % 2 === 0 } } : {}),
  }));
  const list = CandidateSpans.of(model);
  for (let n = 0; n < 5000; n++) {
    const i = (n * 37) % model.length;
    const s: CandidateSpan = {
      spanId: (1000 + n).toString(16).padStart(16, '0'),
      service: `service-${n}`,
      startMs: T - n,
      endMs: T - n + 2,
      kind: n % 2 === 0 ? 3 : 2 ** 32 - 1,
      ...(n % 4 !== 3 ? { destination: { name: `host-${n}.example.net`, isHost: n % 4 === 1 } } : {}),
    };
    model[i] = s;
    list.replace(i, s.spanId, s.service, s.startMs, s.endMs, s.kind, s.destination ?? null);
  }
  assert.deepEqual(Array.from({ length: list.length }, (_, i) => list.at(i)), model);
  assert.ok(list.parts()[2].length < 1023, `${list.parts()[2].length} names kept`);
});

// Full, the list keeps calls to each destination's latest first; ingest and the store's reload take
// spans in one at a time (offer), which must keep what ranking them all at once keeps (keptOfAll). A review: beorn polled palantir 128 times, then called MDSO, and the MDSO
// call was dropped in favour of the earliest polls, so the bridge into MDSO hung from another trace.
describe('a full list of candidates', () => {
  const call = (i: number, destination: string, startMs = T + i, kind = 3): CandidateSpan => ({
    spanId: i.toString(16).padStart(16, '0'),
    service: 'beorn',
    startMs,
    endMs: startMs + 1,
    kind,
    ...(destination !== '' ? { destination: { name: destination, isHost: false } } : {}),
  });

  /** The span ids kept of `spans` arriving in this order, as ingest and the store's reload keep them. */
  function keptOnIngest(spans: readonly CandidateSpan[]): string[] {
    const list = new CandidateSpans();
    for (const s of spans) list.offer(s.spanId, s.service, s.startMs, s.endMs, s.kind, s.destination ?? null);
    return Array.from({ length: list.length }, (_, i) => list.spanId(i)).sort();
  }

  /**
   * The span ids the documented order keeps of all `spans` ranked at once (the reference model):
   * calls naming a destination first, by how many later calls went to the same destination, then
   * latest first; then the other calls, then the rest, each earliest first; ties by span id.
   */
  function keptOfAll(spans: readonly CandidateSpan[]): string[] {
    const tier = (s: CandidateSpan) => (s.kind !== 3 && s.kind !== 4 ? 2 : s.destination ? 0 : 1);
    const earlier = (a: CandidateSpan, b: CandidateSpan) => a.startMs - b.startMs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
    const later = new Map<CandidateSpan, number>();
    const byDestination = new Map<string, CandidateSpan[]>();
    for (const s of spans) if (tier(s) === 0) byDestination.set(s.destination!.name, [...(byDestination.get(s.destination!.name) ?? []), s]);
    for (const group of byDestination.values()) [...group].sort((a, b) => -earlier(a, b)).forEach((s, rank) => later.set(s, rank));
    const order = [...spans].sort((a, b) => tier(a) - tier(b) || (tier(a) === 0 ? later.get(a)! - later.get(b)! || -earlier(a, b) : earlier(a, b)));
    return order.slice(0, MAX_CANDIDATES).map(s => s.spanId).sort();
  }

  function shuffled<T>(items: readonly T[], seed: number): T[] {
    const out = [...items];
    let x = seed;
    for (let i = out.length - 1; i > 0; i--) {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = x % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  const polls = Array.from({ length: 128 }, (_, i) => call(i, 'palantir'));
  const mdso = call(200, 'mdso');

  it('keeps a call to a destination no other kept call goes to: 128 polls of palantir, then MDSO', () => {
    const kept = keptOnIngest([...polls, mdso]);
    assert.equal(kept.length, MAX_CANDIDATES);
    assert.ok(kept.includes(mdso.spanId), 'the MDSO call is kept');
    // The earliest poll gives way.
    assert.ok(!kept.includes(polls[0]!.spanId), 'the earliest poll of palantir is dropped');
    assert.deepEqual(kept, keptOfAll([...polls, mdso]));
  });

  it('keeps the same calls whatever order they arrive in', () => {
    const spans = [...polls, mdso];
    const want = keptOnIngest(spans);
    for (let seed = 1; seed <= 20; seed++) assert.deepEqual(keptOnIngest(shuffled(spans, seed)), want, `seed ${seed}`);
  });

  it('keeps an early call to a destination over the earliest of many later calls elsewhere', () => {
    const spans = [mdso, ...polls.map(p => ({ ...p, startMs: p.startMs + 1000 }))];
    for (const order of [spans, shuffled(spans, 7)]) assert.ok(keptOnIngest(order).includes(mdso.spanId));
  });

  it('drops the earliest call to the destination called most, keeping the latest of each', () => {
    // 100 calls to palantir, 40 to granite, 1 to mdso: 13 too many, all from palantir's earliest.
    const spans = [...Array.from({ length: 100 }, (_, i) => call(i, 'palantir')), ...Array.from({ length: 40 }, (_, i) => call(300 + i, 'granite')), mdso];
    const kept = keptOnIngest(spans);
    assert.deepEqual(kept, [...spans.slice(13).map(s => s.spanId)].sort());
  });

  it('ranks calls that do not say where they went, and other spans, by start as before', () => {
    // 100 unnamed calls and 100 server spans: the calls first, each by start.
    const unnamed = Array.from({ length: 100 }, (_, i) => call(i, '', T + 200 - i));
    const servers = Array.from({ length: 100 }, (_, i) => call(500 + i, '', T + i, 2));
    const kept = keptOnIngest(shuffled([...servers, ...unnamed], 3));
    assert.deepEqual(kept, [...unnamed, ...servers.slice(0, 28)].map(s => s.spanId).sort());
    // A named call outranks them all.
    const withNamed = keptOnIngest([...servers, ...unnamed, call(900, 'arda', T + 1000)]);
    assert.ok(withNamed.includes(call(900, 'arda').spanId));
  });

  it('counts a destination that is also a service of the trace like any other', () => {
    // 128 calls to as many destinations, then an earlier one to mdso, the trace's own service
    // (so a name the list holds already, though no call went there): the earliest, it gives way.
    const spread = Array.from({ length: 128 }, (_, i) => ({ ...call(i, `d${i}`, T + 10 + i), service: 'mdso' }));
    const early = { ...call(500, 'mdso', T), service: 'mdso' };
    for (const spans of [[...spread, early], [early, ...spread], shuffled([...spread, early], 5)]) {
      assert.deepEqual(keptOnIngest(spans), keptOfAll(spans));
      assert.ok(!keptOnIngest(spans).includes(early.spanId));
    }
  });

  it('agrees, ingest and read back, on random traces of a few destinations in any order', () => {
    let x = 42;
    const next = (n: number) => {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
      return x % n;
    };
    const names = ['', 'palantir', 'mdso', 'granite', 'arda'];
    for (let round = 0; round < 60; round++) {
      // Few distinct starts, so that ties between destinations and starts are common.
      // Mostly calls, so that in some rounds the named ones alone are more than the list holds.
      const kinds = [3, 4, 3, 4, 3, 4, 3, 4, 3, 2];
      // Services named like destinations too: names the list holds that no call may go to.
      const spans = Array.from({ length: 130 + next(120) }, (_, i) => ({
        ...call(i, names[next(names.length)]!, T + next(40), kinds[next(kinds.length)]!),
        service: ['beorn', 'arda', 'mdso'][next(3)]!,
      }));
      const want = keptOfAll(spans);
      for (let seed = 1; seed <= 4; seed++) assert.deepEqual(keptOnIngest(shuffled(spans, seed + round * 10)), want, `round ${round} seed ${seed}`);
    }
  });
});
