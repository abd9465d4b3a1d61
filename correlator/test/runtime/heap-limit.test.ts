// The old generation's limit, which is what a heap runs out of, from heap_size_limit and node's
// flags: by a table, and against what node itself reports for the same flags.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { oldGenerationLimit } from '../../src/runtime/heap-limit.js';

const MiB = 2 ** 20;

describe('oldGenerationLimit', () => {
  const cases: [flags: string, heapSizeLimitMiB: number, oldMiB: number][] = [
    ['', 4144, 4096],
    ['--max-old-space-size=128', 176, 128],
    ['--max-old-space-size=64 --max-semi-space-size=4', 76, 64],
    ['--max_old_space_size=64 --max_semi_space_size=4', 76, 64],
    ['--max-semi-space-size=32 --max-semi-space-size=8 --max-old-space-size=64', 88, 64],
    // The young generation is sized from the heap: the whole limit stands for the old generation.
    ['--max-heap-size=128', 128, 128],
    // A figure that cannot be right (heap below the young generation) is not taken to mean an empty heap.
    ['', 40, 5],
  ];
  for (const [flags, limit, old] of cases) {
    it(`${flags || 'no flags'}, heap_size_limit ${limit} MiB → ${old} MiB`, () => {
      assert.equal(oldGenerationLimit(limit * MiB, flags), old * MiB);
    });
  }

  it('matches the --max-old-space-size node was started with', () => {
    for (const flags of [
      ['--max-old-space-size=96'],
      ['--max-old-space-size=200', '--max-semi-space-size=8'],
    ]) {
      const script =
        "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))";
      const heapSizeLimit = Number(
        execFileSync(process.execPath, [...flags, '-e', script], { env: {}, encoding: 'utf8' }),
      );
      const expected = Number(/--max-old-space-size=(\d+)/.exec(flags[0]!)![1]) * MiB;
      assert.equal(oldGenerationLimit(heapSizeLimit, flags.join(' ')), expected, flags.join(' '));
    }
  });
});
