// Where a text stops being JSON (RFC 8259): V8's own message gives no position for an unexpected
// token on Node 20, and from Node 21 on gives one in its own words, so the body parser's answer
// finds the place itself. Run only for a body JSON.parse refused: one pass, no recursion (the
// nesting of a body is the client's to choose).

const ARRAY = 0;
const OBJECT = 1;

/** The offset of the first character at which `text` is not JSON (its length if it ends too soon), or -1 if it is JSON. */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  const stack: number[] = [];
  const skipSpace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      i++;
    }
  };
  const digits = (): boolean => {
    const from = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i > from;
  };
  // Each leaves i past what it read, or at the character that is wrong, and says which.
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          for (let k = 2; k < 6; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) return ((i += k), false);
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return ((i += 1), false);
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  };
  const number = (): boolean => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (!digits()) return false;
    if (text[i] === '.') {
      i++;
      if (!digits()) return false;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!digits()) return false;
    }
    return true;
  };
  const literal = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
    return true;
  };

  let expect: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    skipSpace();
    if (expect === 'after') {
      const top = stack[stack.length - 1];
      if (top === undefined) return i < n ? i : -1;
      const c = text[i];
      if (c === ',') {
        i++;
        expect = top === ARRAY ? 'value' : 'key';
      } else if ((c === ']' && top === ARRAY) || (c === '}' && top === OBJECT)) {
        i++;
        stack.pop();
      } else return i;
      continue;
    }
    if (i >= n) return n;
    const c = text[i];
    if (expect === 'key') {
      if (c !== '"' || !string()) return Math.min(i, n);
      skipSpace();
      if (text[i] !== ':') return Math.min(i, n);
      i++;
      expect = 'value';
      continue;
    }
    if (c === '[' || c === '{') {
      i++;
      skipSpace();
      if (text[i] === (c === '[' ? ']' : '}')) {
        i++;
        expect = 'after';
      } else {
        stack.push(c === '[' ? ARRAY : OBJECT);
        expect = c === '[' ? 'value' : 'key';
      }
      continue;
    }
    const ok = c === '"' ? string() : c === '-' || (c! >= '0' && c! <= '9') ? number() : c === 't' ? literal('true') : c === 'f' ? literal('false') : c === 'n' ? literal('null') : false;
    if (!ok) return Math.min(i, n);
    expect = 'after';
  }
}
