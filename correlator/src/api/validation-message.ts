// The message of a 400 for a request its route's schema refuses. Ajv reports a value outside a
// union of literals as one "must be equal to constant" per literal and a closing "must match a
// schema in anyOf", none of which says what would have been accepted; this says it once.

/**
 * The Ajv options of every route. `verbose` puts the refused value and its schema in each error:
 * a query parameter given twice arrives as an array, and without them its message was the type
 * error of the array ("must be integer"), which does not say what was wrong.
 */
export const AJV_OPTIONS = { coerceTypes: 'array', removeAdditional: false, verbose: true } as const;

/** What the message needs of one of Ajv's errors (fastify's FastifySchemaValidationError). */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
  /** The value refused and the schema it failed, with `verbose`. */
  data?: unknown;
  parentSchema?: unknown;
}

const quoted = (v: unknown): string => JSON.stringify(v);

/** The one alternative a branch of an anyOf accepts, as words; null when it is not a single literal or type. */
function alternative(e: SchemaIssue): string | null {
  if (e.keyword === 'const') return quoted(e.params.allowedValue);
  if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) return e.params.allowedValues.map(quoted).join(', ');
  if (e.keyword === 'type' && typeof e.params.type === 'string') return `a value of type ${e.params.type}`;
  return null;
}

/** One issue as words, without its path. */
function describe(e: SchemaIssue): string {
  if (e.keyword === 'const') return `must be ${quoted(e.params.allowedValue)}`;
  if (e.keyword === 'minLength' && e.params.limit === 1) return 'must not be empty';
  if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) return `must be one of ${e.params.allowedValues.map(quoted).join(', ')}`;
  if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
    return `must not have the property ${quoted(e.params.additionalProperty)}`;
  }
  return e.message ?? `fails ${e.keyword}`;
}

/** An anyOf's words from its branches: the values it accepts, or each branch's own words. */
function anyOfWords(anyOf: SchemaIssue, branches: readonly SchemaIssue[]): string {
  const alternatives = branches.map(alternative);
  if (branches.length > 0 && alternatives.every(a => a !== null)) return `must be one of ${[...new Set(alternatives)].join(', ')}`;
  return [...new Set(branches.map(describe))].join(' or ') || describe(anyOf);
}

/** Whether a schema takes an array: only then is an array given for it not a repeated parameter. */
function takesArray(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return true;
  const { type, anyOf } = schema as { type?: unknown; anyOf?: unknown };
  if (Array.isArray(anyOf)) return anyOf.some(takesArray);
  if (type === undefined) return true;
  return type === 'array' || (Array.isArray(type) && type.includes('array'));
}

/**
 * How many times a query parameter taken once was given, when this issue is about that: the
 * query string parser makes a repeated parameter an array, which such a schema then refuses.
 */
function repetitions(e: SchemaIssue, dataVar: string): number | null {
  if (dataVar !== 'querystring' || !/^\/[^/]+$/.test(e.instancePath) || !Array.isArray(e.data)) return null;
  return takesArray(e.parentSchema) ? null : e.data.length;
}

/**
 * The message for Ajv's errors of one request part (`dataVar`: querystring, params, body,
 * headers): each issue once, as `<part><path> <words>`, in the order Ajv found them, with the
 * branches of an anyOf folded into the anyOf's line, and every issue of a query parameter given
 * more than once folded into one line that says so.
 */
export function validationMessage(errors: readonly SchemaIssue[], dataVar: string): string {
  const branchPrefix = (anyOf: SchemaIssue) => anyOf.schemaPath.replace(/\/anyOf$/, '/anyOf/');
  // A branch at the anyOf's own path is folded into it; one deeper (inside an object branch) is
  // its own line, as it names the property at fault.
  const isBranchOf = (b: SchemaIssue, anyOf: SchemaIssue) =>
    b !== anyOf && b.instancePath === anyOf.instancePath && b.schemaPath.startsWith(branchPrefix(anyOf));
  const anyOfs = errors.filter(e => e.keyword === 'anyOf');
  const repeated = new Map<string, number>();
  for (const e of errors) {
    const n = repetitions(e, dataVar);
    if (n !== null) repeated.set(e.instancePath, n);
  }
  const lines: string[] = [];
  for (const e of errors) {
    const times = repeated.get(e.instancePath);
    if (times !== undefined) {
      const line = `${dataVar}${e.instancePath} given ${times} times: give it once`;
      if (!lines.includes(line)) lines.push(line);
      continue;
    }
    if (e.keyword !== 'anyOf' && anyOfs.some(a => isBranchOf(e, a))) continue;
    const words = e.keyword === 'anyOf' ? anyOfWords(e, errors.filter(b => isBranchOf(b, e))) : describe(e);
    const line = `${dataVar}${e.instancePath} ${words}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines.join('; ');
}

/** fastify's `schemaErrorFormatter`: the error its validation failure carries, with our message. */
export function schemaErrorFormatter(errors: readonly SchemaIssue[], dataVar: string): Error {
  return new Error(validationMessage(errors, dataVar));
}
