// A reply body made of byte ranges of buffers that already exist (rendered span JSON held by the
// span JSON cache, the blocks a view was just written into), sent without joining them. Joining a
// stitched view costs a copy of several MiB per request, and buffers that size are what makes V8
// run full collections under "external memory pressure" every few views.
import { Readable } from 'node:stream';
import { anchorShape } from '../runtime/shape-anchors.js';

/** Past this many pieces a body is joined: one write per piece would cost more than the copy. */
const MAX_PIECES = 256;

export class JsonParts {
  private constructor(
    readonly parts: readonly Buffer[],
    readonly length: number,
  ) {}

  static of(parts: Buffer[], length: number): JsonParts {
    return parts.length > MAX_PIECES
      ? new JsonParts([Buffer.concat(parts, length)], length)
      : new JsonParts(parts, length);
  }

  /** The body as a stream that hands every piece over at once, for fastify to pipe to the socket. */
  stream(): Readable {
    const parts = this.parts;
    return new Readable({
      read() {
        for (const p of parts) this.push(p);
        this.push(null);
      },
    });
  }
}

/**
 * Collects ranges in order, merging a range that starts where the previous one ended in the same
 * buffer, so spans rendered one after another go out as one piece.
 */
export class JsonPartsBuilder {
  private readonly parts: Buffer[] = [];
  private length = 0;
  private buf: Buffer | null = null;
  private start = 0;
  private end = 0;

  add(buf: Buffer, start: number, end: number): void {
    if (buf === this.buf && start === this.end) {
      this.end = end;
      return;
    }
    this.close();
    this.buf = buf;
    this.start = start;
    this.end = end;
  }

  /** Whether the byte right after the last range is `byte`; if so the range takes it in. */
  extendOver(byte: number): boolean {
    if (this.buf === null || this.end >= this.buf.length || this.buf[this.end] !== byte)
      return false;
    this.end++;
    return true;
  }

  finish(): JsonParts {
    this.close();
    return JsonParts.of(this.parts, this.length);
  }

  private close(): void {
    if (this.buf !== null && this.end > this.start) {
      this.parts.push(this.buf.subarray(this.start, this.end));
      this.length += this.end - this.start;
    }
    this.buf = null;
  }
}

// Both live for one reply: see shape-anchors.ts.
anchorShape(anchorShape(new JsonPartsBuilder()).finish());
