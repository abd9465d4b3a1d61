// Clean-up that runs last-in first-out (a server is killed before its data dir is removed) and
// always runs, whatever failed. node:test runs after-hooks first-in first-out, and an `after`
// called inside `before` belongs to the hook, not the suite, so suites create their stack in the
// describe body: `const cleanup = cleanupStack(after)`; tests: `cleanupStack(fn => t.after(fn))`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Cleanup = (fn: () => Promise<void> | void) => void;

export function cleanupStack(register: (fn: () => Promise<void>) => void): Cleanup {
  const stack: Array<() => Promise<void> | void> = [];
  register(async () => {
    const errors: unknown[] = [];
    while (stack.length > 0) {
      try {
        await stack.pop()!();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'clean-up failed');
  });
  return fn => void stack.push(fn);
}

const stacks = new WeakMap<object, Cleanup>();

/**
 * The test's own clean-up stack, the same one each call: what a test closes (a store, an app) and
 * the directory it made are undone in reverse order, not in node:test's order of registration.
 */
export function testCleanup(t: { after: (fn: () => Promise<void>) => void }): Cleanup {
  let stack = stacks.get(t);
  if (!stack) {
    stack = cleanupStack(fn => t.after(fn));
    stacks.set(t, stack);
  }
  return stack;
}

/** A fresh directory, removed at clean-up. */
export async function tempDir(cleanup: Cleanup, prefix = 'corr-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup(() => rm(dir, { recursive: true, force: true, maxRetries: 10 }));
  return dir;
}
