// What was last sent for each hop, as a digest of its bytes: a copy with the same bytes adds
// nothing in Tempo. The writer queues a hop again when something its span may carry changed (a
// group took it on, a trace gained a key, a plan was made again); whether the bytes changed is
// known only here, where they are made. In memory and bounded: after a restart, or once a hop has
// left the bound, an unchanged copy is sent once more, which Tempo deduplicates by span id.
import { createHash } from 'node:crypto';

export class SentCopies {
  private readonly digests = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** Whether the bytes of `digest` (bytesDigest) are what was last sent for `ref`. */
  isLastSent(ref: string, digest: string): boolean {
    return this.digests.get(ref) === digest;
  }

  record(ref: string, digest: string): void {
    // Re-inserted so the bound drops the hops sent longest ago.
    this.digests.delete(ref);
    this.digests.set(ref, digest);
    if (this.digests.size > this.max) this.digests.delete(this.digests.keys().next().value!);
  }
}

/** Made once per copy: the exporter checks it before sending and records it after. */
export function bytesDigest(body: Uint8Array): string {
  return createHash('sha1').update(body).digest('base64');
}
