// A resource's entity refs (OTLP 1.x, resource.proto `entity_refs`): which of its attributes
// identify and describe the entities it is made of. They are stored with the resource as they
// came and forwarded with it, so two resources whose attributes are alike and whose refs differ
// are two resources; the API shows the refs so that they can be told apart where listed.
import type { EntityRef } from '@correlation-station/api-schema';
import { DecodeError, WIRE_LEN, WireReader } from './wire-reader.js';

const RESOURCE_ENTITY_REFS = 3;
const [SCHEMA_URL, TYPE, ID_KEYS, DESCRIPTION_KEYS] = [1, 2, 3, 4];

/**
 * The entity refs of the Resource message `resource`, in the order they came. One that cannot be
 * read (the protobuf path stores the field's bytes unchecked) is left out: the correlator reads
 * nothing else of them, and a listing is not refused for it.
 */
export function readEntityRefs(resource: Uint8Array): EntityRef[] {
  const refs: EntityRef[] = [];
  const r = new WireReader(resource);
  try {
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 === RESOURCE_ENTITY_REFS && (tag & 7) === WIRE_LEN) {
        const [start, end] = r.delimited();
        const ref = readEntityRef(resource, start, end);
        if (ref) refs.push(ref);
      } else r.skip(tag & 7);
    }
  } catch (e) {
    // The resource itself was read when it came; a tail that does not parse ends the list.
    if (!(e instanceof DecodeError)) throw e;
  }
  return refs;
}

function readEntityRef(buf: Uint8Array, start: number, end: number): EntityRef | null {
  const ref: EntityRef = { type: '', idKeys: [], descriptionKeys: [] };
  const r = new WireReader(buf, start, end);
  try {
    while (!r.done) {
      const tag = r.tag();
      const field = tag >>> 3;
      if ((tag & 7) !== WIRE_LEN || field < SCHEMA_URL || field > DESCRIPTION_KEYS) r.skip(tag & 7);
      else if (field === SCHEMA_URL) ref.schemaUrl = r.string();
      else if (field === TYPE) ref.type = r.string();
      else if (field === ID_KEYS) ref.idKeys.push(r.string());
      else ref.descriptionKeys.push(r.string());
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return null;
  }
  return ref;
}
