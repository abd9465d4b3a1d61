import { Type, type Static, type TProperties } from 'typebox';

/** Body of every 4xx/5xx answer from the query API. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'HTTP reason phrase' }),
    code: Type.Optional(Type.String({ description: 'Stable machine-readable code, e.g. CORR_ERR_BAD_TIME' })),
    message: Type.String({ description: 'What is wrong, naming the offending input' }),
  },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/**
 * A time parameter, `more` added to its description: what the time means to the query. A point in
 * time as the plugins send it, epoch milliseconds (Grafana's range.from.valueOf()), or as an
 * operator pastes it: epoch seconds, nanoseconds or an RFC 3339 timestamp. Checked by the handler
 * rather than by a schema pattern, so a bad value gets a message that says what is expected
 * instead of the pattern itself.
 */
export function timeParam(more?: string) {
  const what = 'Epoch seconds (up to 10 digits), milliseconds (11 to 15), nanoseconds (19) or an RFC 3339 timestamp';
  return Type.String({ minLength: 1, maxLength: 40, description: more ? `${what}. ${more}` : what });
}

export const TimeParam = timeParam();

export const LimitParam = Type.Integer({ minimum: 1, maximum: 10000, default: 100 });

/** A list's flag that it was cut at its limit: a list cut without saying so reads as all there is. */
export function TruncatedFlag(items: string) {
  return Type.Boolean({ description: `Whether more ${items} matched than limit: the first limit are listed, in the list's order` });
}

/**
 * A route's query string. Closed: a misspelt parameter (`?circut_id=`) is a 400 that names it,
 * where an open one answered as if no filter had been asked for.
 */
export function QueryString<T extends TProperties>(properties: T) {
  return Type.Object(properties, { additionalProperties: false });
}

/** The query string of a route that takes no parameter: any given is a 400 that names it. */
export const NoQuery = QueryString({});

/**
 * Attribute maps keep OTLP value types: string, number, boolean, arrays and nested maps. Any key:
 * Type.Record's `^(.*)$` pattern does not match a key holding a line break, and the serializer
 * silently dropped such attributes from responses.
 */
export const AttributeMap = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: {} });
export type AttributeMap = Static<typeof AttributeMap>;

/** Business keys the correlator extracts; all optional. */
export const BusinessKeys = Type.Object({
  circuit_id: Type.Optional(Type.String()),
  product_id: Type.Optional(Type.String()),
  resource_id: Type.Optional(Type.String()),
  resource_type_id: Type.Optional(Type.String()),
  request_id: Type.Optional(Type.String()),
});
export type BusinessKeys = Static<typeof BusinessKeys>;

/**
 * The longest business key value taken from data: a longer one is not a key (no circuit is made
 * of it), so every circuit listed can be asked for by its id.
 */
export const MAX_KEY_VALUE_LENGTH = 512;

export const BUSINESS_KEY_NAMES = [
  'circuit_id',
  'product_id',
  'resource_id',
  'resource_type_id',
  'request_id',
] as const;
export type BusinessKeyName = (typeof BUSINESS_KEY_NAMES)[number];
