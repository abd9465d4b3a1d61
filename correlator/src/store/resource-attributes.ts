import type { EntityRef } from '@correlation-station/api-schema';
import { readEntityRefs } from '../otlp/entity-refs.js';
import { readResourceAttributes } from '../otlp/span-reader.js';
import type { StoredResource } from './store.js';

/**
 * Attributes of a stored resource. OTLP resources are kept as their protobuf bytes; resources of
 * the JSON log batch API have no OTLP form and are kept as JSON text.
 */
export function resourceAttributesOf(r: StoredResource): Record<string, unknown> {
  if (isJsonResource(r)) {
    try {
      return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return { 'service.name': r.serviceName };
    }
  }
  try {
    return readResourceAttributes(r.body);
  } catch {
    return { 'service.name': r.serviceName };
  }
}

/** Entity refs of a stored resource (entity-refs.ts); a resource of the JSON log batch API has none. */
export function resourceEntityRefsOf(r: StoredResource): EntityRef[] {
  return isJsonResource(r) ? [] : readEntityRefs(r.body);
}

/** `{` cannot start a Resource message (field 15, a group, which it has not): the JSON text of one. */
function isJsonResource(r: StoredResource): boolean {
  return r.body.length > 0 && r.body[0] === 0x7b;
}
