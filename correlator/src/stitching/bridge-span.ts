// Encodes a planned bridge as an OTLP Span, the form it is served in the stitched view and
// exported to Tempo. The store keeps only the bridge row and makes the bytes from it when read, so
// the same plan must always give the same bytes. Written field by field with protobufjs's writer,
// in the order and form `Span.encode(Span.fromObject(...))` writes the same message: building a
// message object for each bridge cost more than its bytes.
import { BUSINESS_KEY_NAMES, type BusinessKeyName } from '@correlation-station/api-schema';
import protobuf from 'protobufjs';
import type { BridgePlan } from '../correlation/types.js';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../otlp/wire-reader.js';
import { fieldTag, writeNanosFromMs } from '../otlp/wire-writer.js';
import type { BridgeKeyValues } from './bridge-keys.js';

const SPAN_KIND_INTERNAL = 1;


export function bridgeSpanName(plan: Pick<BridgePlan, 'parentService' | 'childService'>): string {
  return `${plan.parentService}_to_${plan.childService}_bridge`;
}

function stringAttribute(w: protobuf.Writer, field: number, key: string, value: string): void {
  w.uint32(fieldTag(field, WIRE_LEN)).fork();
  w.uint32(fieldTag(1, WIRE_LEN)).string(key);
  w.uint32(fieldTag(2, WIRE_LEN)).fork().uint32(fieldTag(1, WIRE_LEN)).string(value).ldelim();
  w.ldelim();
}

/** A string attribute, or a string array when `values` holds more than one (the first written first). */
function keyAttribute(w: protobuf.Writer, key: string, values: readonly string[]): void {
  if (values.length === 1) return stringAttribute(w, 9, key, values[0]!);
  w.uint32(fieldTag(9, WIRE_LEN)).fork();
  w.uint32(fieldTag(1, WIRE_LEN)).string(key);
  // AnyValue.array_value (5), an ArrayValue of AnyValue.string_value (1) entries.
  w.uint32(fieldTag(2, WIRE_LEN)).fork().uint32(fieldTag(5, WIRE_LEN)).fork();
  for (const v of values) w.uint32(fieldTag(1, WIRE_LEN)).fork().uint32(fieldTag(1, WIRE_LEN)).string(v).ldelim();
  w.ldelim().ldelim();
  w.ldelim();
}

/**
 * The key values a hop's span carries for `name`: `first` (if any), then the others, from the
 * traces and the groups, sorted, each once.
 */
function valuesOf(name: BusinessKeyName, first: string | undefined, traceValues: readonly string[], groups: readonly GroupKey[]): string[] {
  const others = new Set(traceValues);
  for (const g of groups) if (g.key === name) others.add(g.value);
  if (first !== undefined) others.delete(first);
  const sorted = [...others].sort();
  return first !== undefined ? [first, ...sorted] : sorted;
}

/** A key group planning a hop: a span two groups plan carries both values (encodeBridgeSpan). */
export interface GroupKey {
  key: BusinessKeyName;
  value: string;
}

/**
 * `keys`: the other business keys of the bridged traces (product, resource, request ids), written
 * after the key that made the bridge, in the order of BUSINESS_KEY_NAMES. `otherGroups`: the
 * other groups that plan the same hop. Tempo keeps one span per id, so the one span sent for the
 * hop carries each group's value (a string array where a key has several, which TraceQL matches
 * by element): a search by either circuit finds it. Views, which show one group, pass none.
 */
export function encodeBridgeSpan(plan: BridgePlan, keys: BridgeKeyValues | null = null, otherGroups: readonly GroupKey[] = []): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(fieldTag(1, WIRE_LEN)).bytes(Buffer.from(plan.traceId, 'hex'));
  w.uint32(fieldTag(2, WIRE_LEN)).bytes(Buffer.from(plan.spanId, 'hex'));
  w.uint32(fieldTag(4, WIRE_LEN)).bytes(Buffer.from(plan.parentSpanId, 'hex'));
  w.uint32(fieldTag(5, WIRE_LEN)).string(bridgeSpanName(plan));
  w.uint32(fieldTag(6, WIRE_VARINT)).int32(SPAN_KIND_INTERNAL);
  writeNanosFromMs(w, 7, plan.parentStartMs);
  writeNanosFromMs(w, 8, Math.max(plan.childStartMs, plan.parentStartMs));
  stringAttribute(w, 9, 'bridge.type', 'synthetic');
  stringAttribute(w, 9, 'bridge.parent_service', plan.parentService);
  stringAttribute(w, 9, 'bridge.child_service', plan.childService);
  stringAttribute(w, 9, 'bridge.child_trace_id', plan.childTraceId);
  // The plan's key: the values of the groups that plan the hop, the plan's first.
  keyAttribute(w, plan.key, valuesOf(plan.key, plan.value, [], otherGroups));
  if (keys || otherGroups.length > 0)
    for (const name of BUSINESS_KEY_NAMES) {
      if (name === plan.key) continue;
      const values = valuesOf(name, undefined, keys?.[name] ?? [], otherGroups);
      if (values.length > 0) keyAttribute(w, name, values);
    }
  stringAttribute(w, 9, 'correlation.method', plan.method);
  // What the bridge hangs from: a TraceQL search can leave out the guesses ({ span.bridge.basis != "time_only" }).
  if (plan.basis !== 'unknown') stringAttribute(w, 9, 'bridge.basis', plan.basis);
  w.uint32(fieldTag(9, WIRE_LEN)).fork();
  w.uint32(fieldTag(1, WIRE_LEN)).string('correlation.confidence');
  w.uint32(fieldTag(2, WIRE_LEN)).fork().uint32(fieldTag(4, WIRE_FIXED64)).double(plan.confidence).ldelim();
  w.ldelim();
  // The link to the child's entry span (field 13).
  w.uint32(fieldTag(13, WIRE_LEN)).fork();
  w.uint32(fieldTag(1, WIRE_LEN)).bytes(Buffer.from(plan.childTraceId, 'hex'));
  w.uint32(fieldTag(2, WIRE_LEN)).bytes(Buffer.from(plan.childSpanId, 'hex'));
  stringAttribute(w, 4, 'link.type', 'bridge_child');
  stringAttribute(w, 4, 'correlation.method', plan.method);
  w.ldelim();
  // Status (field 15) with code UNSET, the default, which is not written.
  w.uint32(fieldTag(15, WIRE_LEN)).fork().ldelim();
  return w.finish();
}
