// The heap-pressure decision with injected heap figures: entered only after a full collection past
// the high mark, kept between the marks, left on any reading below the low mark.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { HeapPressure, underPressure, type HeapReading } from '../../src/runtime/heap-pressure.js';

const MARKS = { high: 0.85, low: 0.7 };

describe('underPressure', () => {
  const cases: [was: boolean, used: number, expected: boolean][] = [
    [false, 50, false],
    [false, 84, false],
    [false, 85, true],
    [false, 99, true],
    [true, 84, true],
    [true, 70, true],
    [true, 69, false],
    [false, 75, false],
    [true, 100, true],
  ];
  for (const [was, used, expected] of cases) {
    it(`${was ? 'under pressure' : 'no pressure'}, ${used}% in use → ${expected ? 'under pressure' : 'no pressure'}`, () => {
      assert.equal(underPressure(was, used, 100, MARKS), expected);
    });
  }
});

describe('HeapPressure', () => {
  function monitor(t: TestContext) {
    let used = 0;
    let clock = 0;
    let afterCollection: number | null = null;
    const calls: string[] = [];
    const p = new HeapPressure({
      collect: () => {
        calls.push('collect');
        if (afterCollection !== null) used = afterCollection;
      },
      limitBytes: 1000,
      marks: MARKS,
      observeGc: false,
      usedBytes: () => used,
      now: () => clock,
      recheckMs: 1000,
      onPressure: (r: HeapReading) => calls.push(`pressure ${r.usedBytes}`),
      onRelief: (r: HeapReading) => calls.push(`relief ${r.usedBytes}`),
    });
    t.after(() => p.close());
    return {
      p,
      calls,
      gc: (bytes: number) => ((used = bytes), p.afterFullCollection()),
      set: (bytes: number) => (used = bytes),
      tick: (ms: number) => (clock += ms),
      /** What a full collection made by the monitor leaves in use. */
      collectsTo: (bytes: number) => (afterCollection = bytes),
    };
  }

  it('is entered after a full collection past the high mark and left below the low mark', t => {
    const m = monitor(t);
    m.gc(800);
    assert.equal(m.p.active, false);
    m.gc(900);
    assert.equal(m.p.active, true);
    assert.deepEqual(m.p.reading, { usedBytes: 900, limitBytes: 1000 });
    m.gc(750);
    assert.equal(m.p.active, true, 'between the marks it stays');
    m.gc(690);
    assert.equal(m.p.active, false);
    assert.deepEqual(m.calls, ['pressure 900', 'relief 690']);
  });

  it('a reading past the high mark outside a full collection is garbage, not pressure', t => {
    const m = monitor(t);
    m.set(990);
    m.p.recheck();
    assert.equal(m.p.active, false);
    assert.deepEqual(m.calls, []);
  });

  it('is left on a reading below the low mark taken at any time: an idle heap may not collect', t => {
    const m = monitor(t);
    m.gc(900);
    m.set(800);
    m.p.recheck();
    assert.equal(m.p.active, true, 'in use at 80%: not relief yet');
    m.set(600);
    m.p.recheck();
    assert.equal(m.p.active, false);
    assert.deepEqual(m.calls, ['pressure 900', 'relief 600']);
  });

  it('asks for more room after each full collection that leaves it at or past the low mark, at most once per recheck interval', t => {
    const m = monitor(t);
    m.gc(900);
    m.tick(200);
    m.gc(950);
    assert.equal(m.calls.length, 1, 'not again within the interval');
    m.tick(1000);
    // Between the marks: with no more room made, a heap that stays there would refuse ingest for good.
    m.gc(750);
    m.tick(1000);
    m.gc(700);
    assert.deepEqual(m.calls, ['pressure 900', 'pressure 750', 'pressure 700']);
    m.set(100);
    m.p.recheck();
    m.tick(1000);
    m.gc(800);
    assert.deepEqual(
      m.calls.slice(3),
      ['relief 100'],
      'out of pressure, a reading between the marks asks nothing',
    );
  });

  it('makes a full collection when none ran for 3 s under pressure, and judges what it left', t => {
    const m = monitor(t);
    m.gc(900);
    m.collectsTo(650);
    m.set(800);
    m.tick(1000);
    m.p.recheck();
    m.tick(1000);
    m.p.recheck();
    assert.deepEqual(m.calls, ['pressure 900'], 'within 3 s of a full collection, none is made');
    m.tick(1000);
    m.p.recheck();
    assert.deepEqual(m.calls, ['pressure 900', 'collect', 'relief 650']);
    assert.equal(m.p.active, false);
  });

  it('a full collection made under pressure that leaves the heap full makes more room', t => {
    const m = monitor(t);
    m.gc(900);
    m.collectsTo(880);
    m.tick(3000);
    m.p.recheck();
    assert.deepEqual(m.calls, ['pressure 900', 'collect', 'pressure 880']);
    assert.equal(m.p.active, true);
  });

  it('keeps what each full collection left in use, under pressure or not, for admission to fit beside', t => {
    const m = monitor(t);
    assert.equal(m.p.afterCollection.usedBytes, 0, 'nothing read before the first collection');
    m.gc(600);
    assert.deepEqual(m.p.afterCollection, { usedBytes: 600, limitBytes: 1000 });
    assert.equal(m.p.active, false);
    // Readings between collections count garbage: not what is left.
    m.set(800);
    m.p.recheck();
    assert.equal(m.p.afterCollection.usedBytes, 600);
    m.gc(900);
    assert.equal(m.p.afterCollection.usedBytes, 900);
    m.set(500);
    m.tick(1000);
    m.p.recheck();
    assert.equal(m.p.active, false);
    assert.equal(m.p.afterCollection.usedBytes, 500, 'the reading that ended pressure: never less than what is live');
  });

  it('checks again every recheck interval while under pressure', async t => {
    let used = 900;
    const relieved: number[] = [];
    const p = new HeapPressure({
      limitBytes: 1000,
      marks: MARKS,
      observeGc: false,
      usedBytes: () => used,
      recheckMs: 20,
      collect: () => {},
      onPressure: () => {},
      onRelief: r => relieved.push(r.usedBytes),
    });
    t.after(() => p.close());
    p.afterFullCollection();
    used = 100;
    await new Promise(resolve => setTimeout(resolve, 200));
    assert.equal(p.active, false);
    assert.deepEqual(relieved, [100]);
  });
});
