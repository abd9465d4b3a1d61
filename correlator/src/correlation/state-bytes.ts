// The byte form of hot-state entries in the encoded tier (state-codec.ts). JSON was the first form:
// writing a trace's dozens of millisecond times as decimal text made encoding a trace cost about
// 14 µs, once for every trace a request brings. Here a time is its eight bytes, a count a varint,
// and a string its UTF-8 bytes behind their length.
//
// The writer keeps one growing buffer: what `finish()` returns is a view of it, valid until the
// next entry is written; the encoded tier copies it at once.

const INITIAL_BYTES = 4096;

export class StateWriter {
  private buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  private pos = 0;

  /** Starts a new entry, dropping what was written before. */
  start(): this {
    this.pos = 0;
    return this;
  }

  /** The entry written since start(), as a view of the writer's buffer. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A non-negative integer (counts, lengths, small enums). */
  uint(n: number): this {
    // Counts can exceed 2^32 in principle; integers up to 2^53 are written 7 bits at a time.
    this.room(8);
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Any double, infinities and fractions included, bit for bit. */
  double(n: number): this {
    this.room(8);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
    return this;
  }

  bool(b: boolean): this {
    return this.uint(b ? 1 : 0);
  }

  string(s: string): this {
    const n = s.length;
    // A UTF-16 unit takes at most three UTF-8 bytes; the length prefix at most five.
    this.room(5 + 3 * n);
    // Ids, keys and service names are ASCII: copied unit by unit in one pass, which for strings
    // this short is cheaper than a call into the runtime's encoder. The first unit outside ASCII
    // sends the string to the encoder instead.
    const start = this.pos;
    this.uint(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = start;
        const bytes = Buffer.byteLength(s, 'utf8');
        this.uint(bytes);
        this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
        return this;
      }
      buf[p++] = c;
    }
    this.pos = p;
    return this;
  }

  strings(list: readonly string[]): this {
    this.uint(list.length);
    for (const s of list) this.string(s);
    return this;
  }

  doubles(list: readonly number[]): this {
    this.uint(list.length);
    for (const n of list) this.double(n);
    return this;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

export class StateReader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  double(): number {
    const n = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return n;
  }

  bool(): boolean {
    return this.uint() === 1;
  }

  string(): string {
    const n = this.uint();
    const start = this.pos;
    this.pos += n;
    return this.buf.toString('utf8', start, this.pos);
  }

  strings(): string[] {
    const n = this.uint();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }

  doubles(): number[] {
    const n = this.uint();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.double());
    return out;
  }
}
