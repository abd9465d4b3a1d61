// Finds a span attribute's key among the business-key aliases from the key's UTF-8 bytes.
//
// Every attribute of every span is looked up, and almost none is an alias. Making a string of each
// key only to miss in a Map took about a tenth of the ingest path's CPU (the key's characters
// copied into a new string, then hashed). Here most keys are turned away by their length alone, the
// rest by a hash of their bytes, and a byte comparison confirms a hit.
//
// Matching must give what decoding the key and looking the string up gives. Decoding can drop a
// leading byte-order mark (3 bytes) and turns malformed bytes into U+FFFD, never into ASCII, so a
// key can only match an alias of its own byte length or 3 bytes shorter; a key with bytes outside
// ASCII takes the string path.
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { utf8 } from './wire-reader.js';

interface Alias {
  readonly bytes: Buffer;
  readonly key: BusinessKeyName;
}

const BOM_BYTES = 3;
/** Aliases this long or longer are found through their length in a set rather than the table. */
const LENGTH_TABLE = 256;

export class AliasMatcher {
  /** lengths[n] is 1 when a key of n bytes could decode to an alias. */
  private readonly lengths = new Uint8Array(LENGTH_TABLE);
  private readonly longLengths = new Set<number>();
  private readonly byHash = new Map<number, Alias[]>();

  constructor(private readonly aliases: ReadonlyMap<string, BusinessKeyName>) {
    for (const [name, key] of aliases) {
      const bytes = Buffer.from(name, 'utf8');
      for (const n of [bytes.length, bytes.length + BOM_BYTES]) {
        if (n < LENGTH_TABLE) this.lengths[n] = 1;
        else this.longLengths.add(n);
      }
      const h = asciiHash(bytes, 0, bytes.length);
      // A non-ASCII alias can only match a non-ASCII key, which takes the string path.
      if (h < 0) continue;
      const list = this.byHash.get(h);
      if (list) list.push({ bytes, key });
      else this.byHash.set(h, [{ bytes, key }]);
    }
  }

  /** The business key whose alias is `name`, if any (attributes already decoded). */
  get(name: string): BusinessKeyName | undefined {
    return this.aliases.get(name);
  }

  /** The business key whose alias is `buf[start, end)` read as UTF-8, if any. */
  match(buf: Uint8Array, start: number, end: number): BusinessKeyName | undefined {
    const n = end - start;
    if (n < LENGTH_TABLE ? this.lengths[n] === 0 : !this.longLengths.has(n)) return undefined;
    const h = asciiHash(buf, start, end);
    if (h < 0) return this.aliases.get(utf8(buf, start, end));
    const list = this.byHash.get(h);
    if (list === undefined) return undefined;
    for (const a of list) if (a.bytes.length === n && sameBytes(a.bytes, buf, start)) return a.key;
    return undefined;
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of the bytes as an unsigned 32-bit number, or -1 if a byte is outside ASCII. */
function asciiHash(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return -1;
    h = Math.imul(h ^ b, FNV_PRIME);
  }
  return h >>> 0;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
