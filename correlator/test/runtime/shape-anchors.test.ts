import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const fixture = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'optimised-across-gc.ts',
);

// Without the anchors a full GC between two views threw away the writer's optimised code (its
// writer and wire reader shapes died with the last instances), and the next view ran 3-4x slower.
test("the span writer's optimised code survives full GCs run while no view is being written", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', fixture],
    { cwd: join(dirname(fixture), '..', '..') },
  );
  const result = JSON.parse(stdout.trim()) as { renderSpans: { before: boolean; after: boolean } };
  assert.deepEqual(result.renderSpans, { before: true, after: true });
});
