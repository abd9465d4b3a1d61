// Pieces for writing OTLP messages field by field with protobufjs's writer, where building a
// message object first would cost more than the bytes (bridge spans, rebuilt stand-in spans).
import type protobuf from 'protobufjs';
import { WIRE_FIXED64 } from './wire-reader.js';

export const fieldTag = (field: number, wire: number): number => (field << 3) | wire;

/** A Unix time in ms as fixed64 nanoseconds, rounded to whole microseconds first. */
export function writeNanosFromMs(w: protobuf.Writer, field: number, ms: number): void {
  // Millisecond floats carry sub-microsecond noise. micros * 1000 passes 2^53, so the two 32-bit
  // halves are made from micros' halves, each product of which stays exact.
  const micros = Math.round(ms * 1000);
  // Zero is proto3's default, which protobufjs leaves out; a time before the epoch was zero too.
  if (micros <= 0) return;
  const high = Math.floor(micros / 2 ** 32);
  const low = (micros % 2 ** 32) * 1000;
  w.uint32(fieldTag(field, WIRE_FIXED64))
    .fixed32(low % 2 ** 32)
    .fixed32((high * 1000 + Math.floor(low / 2 ** 32)) % 2 ** 32);
}
