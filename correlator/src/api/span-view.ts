// Stored span → the API's Span: full decode of the stored OTLP bytes. Its resource and scope are
// given once per reply (apiResources), not on every span.
import type { Span, SpanResource } from '@correlation-station/api-schema';
import { readFullSpan } from '../otlp/span-reader.js';
import { resourceAttributesOf, resourceEntityRefsOf } from '../store/resource-attributes.js';
import type { StoredResource, StoredSpan } from '../store/store.js';
import { timelineOrderOf } from '../store/timeline-order.js';

export function toApiSpans(stored: readonly StoredSpan[]): Span[] {
  return stored.map(toApiSpan);
}

/** One stored span as an API Span. */
export function toApiSpan(s: StoredSpan): Span {
  const full = readFullSpan(s.body);
  return {
    ...full,
    traceId: s.traceId,
    spanId: s.spanId,
    serviceName: s.service,
    resourceId: s.resource.id,
    synthetic: s.synthetic,
  };
}

// Store resource objects are cached and shared by the spans of a resource: decoded once each.
const apiResourceCache = new WeakMap<StoredResource, SpanResource>();

/** The resource and scope of each of `spans`, once each, by id. */
export function apiResources(spans: readonly { resource: StoredResource }[]): SpanResource[] {
  const byId = new Map<number, SpanResource>();
  for (const { resource } of spans) {
    if (byId.has(resource.id)) continue;
    let api = apiResourceCache.get(resource);
    if (!api) {
      const entityRefs = resourceEntityRefsOf(resource);
      api = {
        id: resource.id,
        attributes: resourceAttributesOf(resource),
        // Resources alike but for their refs are two: without them, two identical ones were listed.
        ...(entityRefs.length > 0 ? { entityRefs } : {}),
        scope: { name: resource.scopeName, version: resource.scopeVersion },
      };
      apiResourceCache.set(resource, api);
    }
    byId.set(resource.id, api);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** One timeline (timeline-order.ts): by start time, parents before children at equal times, then by id. */
export function orderForTimeline(spans: Span[]): Span[] {
  return timelineOrderOf(spans, s => s.startTimeMs).map(i => spans[i]!);
}
