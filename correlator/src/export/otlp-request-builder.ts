import protobuf from 'protobufjs';
import type { StoredSpan } from '../store/store.js';

/**
 * Builds an ExportTraceServiceRequest from stored spans without decoding them: each span and
 * resource is already a valid encoded message, so they are framed as they are.
 */
export function buildTraceExport(spans: readonly StoredSpan[]): Uint8Array {
  const byResource = new Map<StoredSpan['resource'], StoredSpan[]>();
  for (const s of spans) {
    const list = byResource.get(s.resource);
    if (list) list.push(s);
    else byResource.set(s.resource, [s]);
  }
  const w = protobuf.Writer.create();
  for (const [resource, list] of byResource) {
    w.uint32((1 << 3) | 2).fork(); // ResourceSpans
    w.uint32((1 << 3) | 2).bytes(resource.body); // Resource
    w.uint32((2 << 3) | 2).fork(); // ScopeSpans
    w.uint32((1 << 3) | 2).fork(); // InstrumentationScope
    w.uint32((1 << 3) | 2).string(resource.scopeName);
    if (resource.scopeVersion) w.uint32((2 << 3) | 2).string(resource.scopeVersion);
    w.ldelim();
    for (const s of list) w.uint32((2 << 3) | 2).bytes(s.body);
    w.ldelim();
    w.ldelim();
  }
  return w.finish();
}
