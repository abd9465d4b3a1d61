// Finds a span attribute's key among the business-key aliases from the key's UTF-8 bytes.
//
// Every attribute of every span is looked up, and almost none is an alias. Making a string of each
// key only to miss in a Map took about a tenth of the ingest path's CPU (the key's characters
// copied into a new string, then hashed). Here a key is placed by its shape (length, first, middle
// and last two bytes) in a table of the aliases' shapes: most keys find an empty slot, and the few
// aliases in a slot are compared byte for byte. Most ordinary keys share a length with some alias
// (there are 33 by default, of 9 to 33 bytes), so the length alone turned away few of them.
//
// Matching must give what decoding the key and looking the string up gives. Decoding turns
// malformed bytes into U+FFFD (a leading byte-order mark is kept, as protobuf decoders keep it),
// so a key decodes to an alias when it has the alias's bytes, or malformed ones in place of a
// U+FFFD the alias holds. Keys of the first kind are compared. An alias holding U+FFFD could be
// matched by malformed bytes of any length and shape: with one configured, every key takes the
// string path.
//
// The attributes that say where a call went (call-destination.ts) are found by the same look-up,
// as the index of their name: checked apart, every key that is neither paid for a second look-up,
// and the decoder's attribute loop grew past what V8 inlines into it (an eighth more per span).
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { DESTINATION_ATTRIBUTES } from './call-destination.js';
import { sameBytes } from './hex.js';
import { utf8 } from './wire-reader.js';

interface Alias {
  readonly bytes: Buffer;
  /** A business key, or a destination attribute's index in DESTINATION_ATTRIBUTES. */
  readonly key: BusinessKeyName | number;
}

/** Slots of the shape table: a power of two, so a shape's hash is masked into it. */
const SHAPE_SLOTS = 1 << 14;

export class AliasMatcher {
  /** The aliases of each shape; `null` where no alias has it. */
  private readonly byShape: (Alias[] | null)[] = new Array<Alias[] | null>(SHAPE_SLOTS).fill(null);
  private readonly decodeEveryKey: boolean;
  /** The aliases, then the destination attributes no alias names. */
  private readonly names: ReadonlyMap<string, BusinessKeyName | number>;

  constructor(private readonly aliases: ReadonlyMap<string, BusinessKeyName>) {
    this.decodeEveryKey = [...aliases.keys()].some(
      name => name.length === 0 || name.includes('\uFFFD'),
    );
    const names = new Map<string, BusinessKeyName | number>(aliases);
    DESTINATION_ATTRIBUTES.forEach((name, i) => {
      if (!names.has(name)) names.set(name, i);
    });
    this.names = names;
    for (const [name, key] of names) {
      const bytes = Buffer.from(name, 'utf8');
      if (bytes.length === 0) continue;
      const slot = shapeSlot(bytes, 0, bytes.length);
      (this.byShape[slot] ??= []).push({ bytes, key });
    }
  }

  /** The business key whose alias is `name`, if any (attributes already decoded). */
  get(name: string): BusinessKeyName | undefined {
    return this.aliases.get(name);
  }

  /**
   * The business key whose alias is `buf[start, end)` read as UTF-8, or the index of the
   * destination attribute it is (an alias of the same name wins), if any.
   */
  match(buf: Uint8Array, start: number, end: number): BusinessKeyName | number | undefined {
    const n = end - start;
    if (this.decodeEveryKey || n === 0) return this.names.get(utf8(buf, start, end));
    const slot = shapeSlot(buf, start, n);
    const list = this.byShape[slot];
    if (list)
      for (const a of list)
        if (a.bytes.length === n && sameBytes(a.bytes, 0, buf, start, n)) return a.key;
    return undefined;
  }
}

/** A hash of the key's length and its first, middle and last two bytes (n ≥ 1). */
function shapeSlot(buf: Uint8Array, start: number, n: number): number {
  const last = start + n - 1;
  let h = Math.imul(n, 0x9e3779b1);
  h ^=
    buf[start]! |
    (buf[start + (n >> 1)]! << 8) |
    (buf[last]! << 16) |
    (buf[n > 1 ? last - 1 : last]! << 24);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 13)) & (SHAPE_SLOTS - 1);
}
