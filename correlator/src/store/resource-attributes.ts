import { readResourceAttributes } from '../otlp/span-reader.js';
import type { StoredResource } from './store.js';

/**
 * Attributes of a stored resource. OTLP resources are kept as their protobuf bytes; resources of
 * the JSON log batch API have no OTLP form and are kept as JSON text.
 */
export function resourceAttributesOf(r: StoredResource): Record<string, unknown> {
  if (r.body.length > 0 && r.body[0] === 0x7b) {
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
