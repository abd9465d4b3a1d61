import type { BusinessKeyName } from '@correlation-station/api-schema';
import type { AliasMatcher } from './alias-matcher.js';
import type { AttrMap } from './any-value.js';
import type { CallDestination } from './call-destination.js';

export type KeyValues = Partial<Record<BusinessKeyName, string>>;

/** How business keys are found in attributes; built once from config. */
export interface KeyExtractionRules {
  /** Attribute names that carry a business key: looked up by name, or by a key's bytes. */
  aliases: AliasMatcher;
  logPatterns: readonly { key: BusinessKeyName; regex: RegExp; mention: boolean }[];
  maxAttributeValueBytes: number;
  /** Span and event names, attribute keys, service.name, scope names: UTF-8 bytes as received. */
  maxNameBytes: number;
}

/** A Resource plus InstrumentationScope pair, shared by the spans or logs under it. */
export interface DecodedResourceScope {
  serviceName: string;
  keys: KeyValues | null;
  /** Further values its arrays name (FoundKeys.more). */
  moreKeys?: string[] | null;
  attributes: AttrMap;
  /**
   * The Resource message in canonical form (canonical-resource.ts), stored once per distinct
   * resource; the log batch API's is JSON text.
   */
  resourceBytes: Uint8Array;
  scopeName: string;
  scopeVersion: string;
}

export interface SpanLinkRef {
  traceId: string;
  spanId: string;
}

/** What ingest needs of a span; the span itself stays in `bytes`, decoded fully only when queried. */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  statusCode: number;
  /** Span keys merged over resource keys; null when none. */
  keys: KeyValues | null;
  /**
   * Further values of its keys that arrays name, as (key, value) pairs (FoundKeys.more); null or
   * absent when none, as nearly always.
   */
  moreKeys?: string[] | null;
  links: SpanLinkRef[] | null;
  bytes: Uint8Array;
  resource: DecodedResourceScope;
  synthetic: boolean;
  /** Where the span, a client or producer call, went (call-destination.ts); null or absent when it does not say. */
  destination?: CallDestination | null;
}

export interface DecodedTraceBatch {
  spans: DecodedSpan[];
  rejected: number;
  /** The first few rejection reasons, for partial_success.error_message. */
  rejectionMessages: string[];
  /** The first few problems of items kept (a circuit_id too long to be a key), for the same message. */
  warnings: string[];
  warned: number;
  /**
   * Spans under the correlator's own bridge scope (bridge-span.ts, isExportedBridgeScope), not
   * decoded: copies of bridges it holds, handed back by a collector that also feeds Tempo.
   */
  exportedBridges: number;
}

export interface DecodedLog {
  timeMs: number;
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: string;
  /** A structured body's entries (an OTLP key-value list), of which `body` is the text. */
  bodyEntries?: AttrMap | null;
  traceId: string;
  spanId: string;
  eventName: string;
  attributes: AttrMap;
  keys: KeyValues | null;
  /** As DecodedSpan.moreKeys. */
  moreKeys?: string[] | null;
  /** The batch API's key fields as the record gave them (not its text's keys): part of its identity. */
  fieldKeys?: KeyValues | null;
  resource: DecodedResourceScope;
  source: 'otlp' | 'api';
  /**
   * A record with neither time is dated by its arrival, which a client's retry changes: its identity
   * (log-identity.ts) takes the request it came in instead, a digest of the request's bytes, which a
   * retry repeats. Absent on a record that has a time of its own.
   */
  undatedIdentity?: string;
}

export interface DecodedLogBatch {
  logs: DecodedLog[];
  rejected: number;
  rejectionMessages: string[];
  warnings: string[];
  warned: number;
}

export const MAX_REJECTION_MESSAGES = 5;

/** `count` items rejected for one reason (a resource's or scope's problem rejects all its items). */
export function noteRejection(batch: { rejected: number; rejectionMessages: string[] }, message: string | (() => string), count = 1): void {
  batch.rejected += count;
  if (batch.rejectionMessages.length < MAX_REJECTION_MESSAGES) batch.rejectionMessages.push(typeof message === 'string' ? message : message());
}

export function noteWarning(batch: { warned: number; warnings: string[] }, message: string): void {
  batch.warned++;
  if (batch.warnings.length < MAX_REJECTION_MESSAGES) batch.warnings.push(message);
}
