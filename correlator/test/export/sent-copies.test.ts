import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SentCopies, bytesDigest } from '../../src/export/sent-copies.js';

/** The digest of the bytes of `s`, as the exporter makes it. */
const bytes = (s: string) => bytesDigest(Buffer.from(s));

describe('SentCopies', () => {
  it('knows the bytes last sent for a hop, not earlier or other ones', () => {
    const sent = new SentCopies(10);
    assert.equal(sent.isLastSent('h1', bytes('a')), false);
    sent.record('h1', bytes('a'));
    assert.equal(sent.isLastSent('h1', bytes('a')), true);
    assert.equal(sent.isLastSent('h2', bytes('a')), false);
    sent.record('h1', bytes('b'));
    assert.equal(sent.isLastSent('h1', bytes('a')), false);
    assert.equal(sent.isLastSent('h1', bytes('b')), true);
  });

  it('forgets the hop sent longest ago past its bound, counting a hop sent again as recent', () => {
    const sent = new SentCopies(2);
    sent.record('h1', bytes('a'));
    sent.record('h2', bytes('a'));
    sent.record('h1', bytes('a'));
    sent.record('h3', bytes('a'));
    assert.deepEqual(['h1', 'h2', 'h3'].map(h => sent.isLastSent(h, bytes('a'))), [true, false, true]);
  });
});
