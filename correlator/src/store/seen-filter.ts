// A Bloom filter of what a store holds: trace ids, key groups (a business key and its value) and
// the content hashes log records are de-duplicated by.
// Most traces and keys a request brings are new. Asking the store about each one costs a B-tree
// probe per id, and in WAL mode every commit of the writer empties the reading connection's page
// cache, so each probe reads its pages again: about 1 ms of the main thread per request of 512
// spans. A filter answers "never held" for almost all of them in a fraction of a microsecond.
// It has no false negatives: "may hold" sends the caller to the store, as before.

/** Bits per entry at capacity, and probes per entry: about 0.8% false positives when full. */
const BITS_PER_ENTRY = 10;
const PROBES = 7;
const MIN_BYTES = 1024;
/** The smallest filter sized for a store: 52k entries, so a young store is not rebuilt every few requests. */
const MIN_SIZED_BYTES = 64 * 1024;

// The two hashes of the last string hashed; module scope so hashing allocates nothing.
let h1 = 0;
let h2 = 0;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a and a multiply-xorshift hash over the UTF-16 units of `s`, continuing from h1, h2. */
function mix(s: string): void {
  let a = h1;
  let b = h2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  h1 = a;
  h2 = b;
}

function hashTrace(traceId: string): void {
  h1 = 0x811c9dc5;
  h2 = 0x9e3779b9;
  mix(traceId);
  h1 = fmix32(h1);
  h2 = fmix32(h2) | 1;
}

function hashGroup(key: string, value: string): void {
  // Other seeds than trace ids, and the key's end marked, so ("ab", "c") and ("a", "bc") differ.
  h1 = 0x2c1b3c6d;
  h2 = 0x297a2d39;
  mix(key);
  h1 = Math.imul(h1 ^ 0xffff, 0x01000193);
  h2 = Math.imul(h2 ^ 0xffff, 0x5bd1e995);
  mix(value);
  h1 = fmix32(h1);
  h2 = fmix32(h2) | 1;
}

function hashLog(dedupe: string): void {
  h1 = 0x6a09e667;
  h2 = 0xbb67ae85;
  mix(dedupe);
  h1 = fmix32(h1);
  h2 = fmix32(h2) | 1;
}

/**
 * The size in bytes (a power of two, at least 64 KiB) that holds `entries` at capacity, or the
 * largest within `maxBytes`; 0 when `maxBytes` is below 64 KiB.
 */
export function seenFilterBytes(entries: number, maxBytes: number): number {
  if (maxBytes < MIN_SIZED_BYTES) return 0;
  const wanted = Math.ceil((Math.max(1, entries) * BITS_PER_ENTRY) / 8);
  let bytes = MIN_SIZED_BYTES;
  while (bytes < wanted && bytes * 2 <= maxBytes) bytes *= 2;
  return bytes;
}

export class SeenFilter {
  private readonly words: Uint32Array;
  private readonly mask: number;
  private count = 0;

  /** `bytes`: a power of two, at least 1 KiB. */
  constructor(readonly bytes: number) {
    if (bytes < MIN_BYTES || (bytes & (bytes - 1)) !== 0)
      throw new RangeError(`filter size ${bytes} is not a power of two ≥ ${MIN_BYTES}`);
    this.words = new Uint32Array(bytes / 4);
    this.mask = bytes * 8 - 1;
  }

  /** Entries added (an entry added twice counts twice: an upper bound of what it holds). */
  get added(): number {
    return this.count;
  }

  /** Entries it holds at about 0.8% false positives; beyond it, the rate climbs (14% at twice). */
  get capacity(): number {
    return Math.floor((this.bytes * 8) / BITS_PER_ENTRY);
  }

  addTrace(traceId: string): void {
    hashTrace(traceId);
    this.set();
  }

  mayHoldTrace(traceId: string): boolean {
    hashTrace(traceId);
    return this.test();
  }

  addGroup(key: string, value: string): void {
    hashGroup(key, value);
    this.set();
  }

  mayHoldGroup(key: string, value: string): boolean {
    hashGroup(key, value);
    return this.test();
  }

  addLog(dedupe: string): void {
    hashLog(dedupe);
    this.set();
  }

  mayHoldLog(dedupe: string): boolean {
    hashLog(dedupe);
    return this.test();
  }

  private set(): void {
    this.count++;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.words[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  private test(): boolean {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
