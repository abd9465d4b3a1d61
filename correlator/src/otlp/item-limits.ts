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
