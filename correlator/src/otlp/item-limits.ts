// The size limits every log and span path applies alike (OTLP protobuf, OTLP JSON, the JSON log
// batch), all from MAX_ATTRIBUTE_VALUE_BYTES, all counted in UTF-8 bytes.

/** A log body may be four times an attribute value: a stack trace or a plan's output is a body. */
export const LOG_BODY_LIMIT_FACTOR = 4;

export function logBodyLimit(maxAttributeValueBytes: number): number {
  return LOG_BODY_LIMIT_FACTOR * maxAttributeValueBytes;
}

/**
 * The text's UTF-8 size when it is over `limit` bytes, else null. A UTF-16 unit is one to three
 * bytes, so most texts are settled by their length without being measured.
 */
export function utf8BytesOver(text: string, limit: number): number | null {
  if (text.length * 3 <= limit) return null;
  const bytes = Buffer.byteLength(text);
  return bytes > limit ? bytes : null;
}

// One wording for every path, naming the field, its size, the limit and the setting that sets it:
// the OTLP decoders and the JSON log batch refuse alike.

/** Why a name (span, event or scope name, attribute key, service.name…) of `bytes` is refused. */
export function nameOverLimit(what: string, bytes: number, limit: number): string {
  return `${what} is ${bytes} bytes, over the name limit of ${limit} (MAX_NAME_BYTES)`;
}

/** Why a value (an attribute's, a label's) of `bytes` is refused. */
export function valueOverLimit(what: string, bytes: number, limit: number): string {
  return `${what} is ${bytes} bytes, over the limit of ${limit} (MAX_ATTRIBUTE_VALUE_BYTES)`;
}

/** Why a log body (an OTLP body, a batch's message) of `bytes` is refused; `limit` is logBodyLimit's. */
export function bodyOverLimit(what: string, bytes: number, limit: number): string {
  return `${what} is ${bytes} bytes, over the limit of ${limit} (${LOG_BODY_LIMIT_FACTOR} × MAX_ATTRIBUTE_VALUE_BYTES)`;
}

/** nameOverLimit for a text over the limit, else null. */
export function nameTextProblem(what: string, text: string, limit: number): string | null {
  const bytes = utf8BytesOver(text, limit);
  return bytes === null ? null : nameOverLimit(what, bytes, limit);
}

/** valueOverLimit for a text over the limit, else null. */
export function valueTextProblem(what: string, text: string, limit: number): string | null {
  const bytes = utf8BytesOver(text, limit);
  return bytes === null ? null : valueOverLimit(what, bytes, limit);
}
