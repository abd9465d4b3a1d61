// The market API's `q` (exact) and `p` (partial, wildcard) filters, mdso-api.md §2.2.

export interface Clause {
  path: readonly string[];
  value: string;
}

export class QueryError extends Error {}

/** `field:value,properties.x:y,` → clauses; trailing/empty clauses are ignored as MDSO callers leave them. */
export function parseClauses(raw: string | undefined, param: 'q' | 'p'): Clause[] {
  if (raw === undefined) return [];
  const clauses: Clause[] = [];
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    if (colon <= 0) throw new QueryError(`${param}: clause "${part}" is not of the form field:value`);
    const field = part.slice(0, colon).trim();
    if (!/^[A-Za-z_][\w]*(\.[\w-]+)*$/.test(field)) throw new QueryError(`${param}: "${field}" is not a field path`);
    clauses.push({ path: field.split('.'), value: part.slice(colon + 1).trim() });
  }
  return clauses;
}

function resolve(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function scalars(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.flatMap(scalars);
  if (typeof v === 'object') return [];
  return [String(v)];
}

export function matchesExact(resource: object, clauses: readonly Clause[]): boolean {
  return clauses.every(c => scalars(resolve(resource, c.path)).includes(c.value));
}

export function compilePartial(clauses: readonly Clause[]): Array<{ path: readonly string[]; re: RegExp }> {
  return clauses.map(c => {
    const source = c.value
      .split('*')
      .map(s => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*');
    return { path: c.path, re: new RegExp(source, 'i') };
  });
}

/** Substring semantics with `*` wildcards; case-insensitive (an assumption: no capture shows case). */
export function matchesPartial(resource: object, compiled: ReadonlyArray<{ path: readonly string[]; re: RegExp }>): boolean {
  return compiled.every(c => scalars(resolve(resource, c.path)).some(v => c.re.test(v)));
}
