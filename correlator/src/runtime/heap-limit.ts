// How much the JavaScript heap may hold before V8 stops the process. v8's heap_size_limit is not
// that figure: it adds the young generation, three semi-spaces (two and the new large-object
// space) of 16 MiB each by default on 64-bit, which never hold what outlives a collection. With
// --max-old-space-size=64 heap_size_limit is 112 MiB, and a process died of "Reached heap limit"
// at 61 MiB in use. What fills up is the old generation, so bounds are judged against it.
//
// V8 does not report the old generation's limit; it is heap_size_limit less the young
// generation, whose size the flags given to node decide (a test checks this against node itself).
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const MiB = 2 ** 20;
/** V8's largest semi-space on 64-bit unless --max-semi-space-size says otherwise. */
const DEFAULT_SEMI_SPACE_BYTES = 16 * MiB;
/** Two semi-spaces and the new large-object space, each one semi-space in size. */
const SEMI_SPACES_IN_YOUNG_GENERATION = 3;

/**
 * The old generation's limit in bytes, from heap_size_limit and the V8 flags node was given
 * (its command line and NODE_OPTIONS, as one string).
 */
export function oldGenerationLimit(heapSizeLimit: number, v8Flags: string): number {
  // --max-heap-size sizes the young generation from the heap (a few MiB for a small one): the
  // limit is then an overestimate by that much, which the high-water marks leave room for.
  if (
    flagValue(v8Flags, 'max-heap-size') !== null &&
    flagValue(v8Flags, 'max-old-space-size') === null
  )
    return heapSizeLimit;
  const semiSpaceMiB = flagValue(v8Flags, 'max-semi-space-size');
  const semiSpace = semiSpaceMiB === null ? DEFAULT_SEMI_SPACE_BYTES : semiSpaceMiB * MiB;
  // Never less than an eighth: flags this misreads must not make every heap look full.
  return Math.max(heapSizeLimit - SEMI_SPACES_IN_YOUNG_GENERATION * semiSpace, heapSizeLimit / 8);
}

/** This process's old-generation limit. */
export function processOldGenerationLimit(): number {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return oldGenerationLimit(getHeapStatistics().heap_size_limit, flags);
}

/** Young-generation spaces: what they hold is collected or promoted at the next scavenge. */
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/**
 * Bytes in use in the old generation, the figure its limit bounds. The heap's used_heap_size also
 * counts the young generation, up to 48 MiB of objects mostly dead, which filled a small heap's
 * readings with garbage no full collection had to sweep.
 */
export function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics())
    if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size;
  return used;
}

/** A numeric V8 flag's value (the last one given wins, as in V8); dashes or underscores alike. */
function flagValue(flags: string, name: string): number | null {
  const pattern = new RegExp(`--${name.replaceAll('-', '[-_]')}[= ](\\d+)`, 'g');
  let value: number | null = null;
  for (const m of flags.matchAll(pattern)) value = Number(m[1]);
  return value;
}
