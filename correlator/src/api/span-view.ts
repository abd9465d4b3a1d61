// Stored span → the API's Span: full decode of the stored OTLP bytes plus its resource.
import type { Span } from '@correlation-station/api-schema';
import { readFullSpan } from '../otlp/span-reader.js';
import { resourceAttributesOf } from '../store/resource-attributes.js';
import type { StoredResource, StoredSpan } from '../store/store.js';

export function toApiSpans(stored: readonly StoredSpan[]): Span[] {
  const resources = new Map<StoredResource, Record<string, unknown>>();
  return stored.map(s => {
    let resource = resources.get(s.resource);
    if (!resource) {
      resource = resourceAttributesOf(s.resource);
      resources.set(s.resource, resource);
    }
    return toApiSpan(s, resource);
  });
}

/** One stored span as an API Span, given its resource's attributes (decoded once per resource). */
export function toApiSpan(s: StoredSpan, resource: Record<string, unknown>): Span {
  const full = readFullSpan(s.body);
  return {
    ...full,
    traceId: s.traceId,
    spanId: s.spanId,
    serviceName: s.service,
    resource,
    scope: { name: s.resource.scopeName, version: s.resource.scopeVersion },
    synthetic: s.synthetic,
  };
}

/** One timeline: by start time, parents before children at equal times, then by id. */
export function orderForTimeline(spans: Span[]): Span[] {
  return spans.sort(
    (a, b) =>
      a.startTimeMs - b.startTimeMs ||
      (a.parentSpanId === '' ? -1 : 0) - (b.parentSpanId === '' ? -1 : 0) ||
      (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0),
  );
}
