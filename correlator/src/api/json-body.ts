// The JSON body parser of every route. fastify's own refuses prototype poisoning (a "__proto__"
// key, or a "constructor" holding a "prototype") as it should, but answers it as a syntax error,
// "Body is not valid JSON", which sends a client looking for a fault its valid JSON does not have.
// This refuses the same bodies and names the key.
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { CorrelatorError } from './errors.js';
import { jsonErrorOffset } from './json-error-offset.js';

// As secure-json-parse's, which fastify uses: the walk for the keys is paid only by a body whose
// text names one (also written with \u escapes).
const SUSPECT_PROTO = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
const SUSPECT_CONSTRUCTOR =
  /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;

const hasOwn = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

/** The forbidden key a parsed value holds, as its message words; null when it holds none. */
export function forbiddenKey(value: unknown): string | null {
  // A stack, not recursion: the nesting of a body is the client's to choose.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (!Array.isArray(node)) {
      if (hasOwn(node, '__proto__')) return 'JSON key "__proto__" is not accepted';
      const ctor = (node as { constructor?: unknown }).constructor;
      if (hasOwn(node, 'constructor') && ctor !== null && typeof ctor === 'object' && hasOwn(ctor, 'prototype')) {
        return 'JSON key "constructor" holding a "prototype" is not accepted';
      }
    }
    for (const k in node) stack.push((node as Record<string, unknown>)[k]);
  }
  return null;
}

/**
 * What is wrong with a body JSON.parse refused, and where: V8's words without the position it
 * gives in some forms and Node versions (they quote the text near an unexpected token), and the
 * line and column of the first character that is not JSON, since a log batch is often
 * pretty-printed and a character offset alone is hard to find in it.
 */
export function jsonSyntaxMessage(text: string, parserMessage: string): string {
  const at = jsonErrorOffset(text);
  const offset = at < 0 ? text.length : at;
  if (offset === text.length) {
    return `Body is not valid JSON: it ends ${place(text, text.length)}, before the JSON is complete`;
  }
  const words = parserMessage.replace(/(?: in JSON)? at position \d+(?: \(line \d+ column \d+\))?/, '');
  return `Body is not valid JSON: ${words} ${place(text, offset)}`;
}

function place(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `at line ${line}, column ${position - lineStart + 1} (character ${position})`;
}

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
  // A byte order mark is no part of the JSON (RFC 8259 lets a parser ignore it), as fastify's parser had it.
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new CorrelatorError('FST_ERR_CTP_INVALID_JSON_BODY', 400, jsonSyntaxMessage(json, (e as Error).message));
  }
  if (value === null || typeof value !== 'object' || (!SUSPECT_PROTO.test(json) && !SUSPECT_CONSTRUCTOR.test(json))) return value;
  const why = forbiddenKey(value);
  if (why) throw new CorrelatorError('CORR_ERR_FORBIDDEN_JSON_KEY', 400, `${why}: keys that could change objects' prototypes are refused`);
  return value;
}

/**
 * Registers jsonBodyParser(refuse) as the JSON parser of `app`'s context (a route plugin's own,
 * replacing the one it inherits).
 */
export function useJsonBodyParser(app: FastifyInstance, refuse?: (request: FastifyRequest, text: string) => Error | null): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(refuse));
}

/**
 * fastify's content-type parser for JSON, as every route registers it. `refuse` sees the text
 * first and may refuse it before JSON.parse pays for it (the OTLP routes count their items there).
 */
export function jsonBodyParser(refuse?: (request: FastifyRequest, text: string) => Error | null) {
  return (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const text = body as string;
    const refusal = refuse ? refuse(request, text) : null;
    if (refusal) {
      done(refusal, undefined);
      return;
    }
    try {
      done(null, parseJsonBody(text));
    } catch (e) {
      done(e as Error, undefined);
    }
  };
}
