// A resource's entity refs (OTLP 1.x, resource.proto `entity_refs`): which of its attributes
// identify and describe the entities it is made of. They are stored with the resource as they
// came and forwarded with it, so two resources whose attributes are alike and whose refs differ
// are two resources; the API shows the refs so that they can be told apart where listed. One the
// spec does not allow is left out, its resource's items kept, and the sender told, whether it came
// as protobuf (the decoder, refsLeftOut) or as OTLP/JSON (json-normaliser.ts), in the same words.
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

/**
 * Why `ref` is not a ref the spec allows (common.proto EntityRef): its type "MUST not be empty",
 * its id "must contain at least one attribute", and the keys of both lists "MUST exist in the
 * containing" resource's attributes. Null when it is one. A ref naming an attribute the resource
 * does not have refers to nothing, and one without a type or id identifies no entity.
 */
export function entityRefProblem(ref: EntityRef, isAttribute: (key: string) => boolean): string | null {
  if (ref.type === '') return 'its type is empty';
  if (ref.idKeys.length === 0) return 'its idKeys are empty';
  for (const field of ['idKeys', 'descriptionKeys'] as const) {
    const missing = ref[field].find(key => !isAttribute(key));
    if (missing !== undefined) return `${field} names ${JSON.stringify(missing.slice(0, 100))}, which is not an attribute of the resource`;
  }
  return null;
}

/** A ref as a warning shows it, alike from either encoding: the API's fields, in its order. */
export function shownEntityRef(ref: EntityRef): string {
  const { type, schemaUrl, idKeys, descriptionKeys } = ref;
  return JSON.stringify({ type, ...(schemaUrl ? { schemaUrl } : {}), idKeys, descriptionKeys });
}

/** What a sender is told of a ref left out, after its resource's place: which ref, as `shown`, and why. */
export function entityRefLeftOut(index: number, shown: string, problem: string): string {
  return `entityRefs[${index}]${shown ? ` ${shown.slice(0, 80)}` : ''} left out: ${problem}`;
}

/**
 * The entity refs of the Resource in `buf[start, end)` that its stored form goes without: each
 * field's start (as canonicalResource takes them), and what the sender is told of it. A ref whose
 * bytes are no EntityRef is one, as is one entityRefProblem finds fault with. Null when none is,
 * as nearly always: most resources have no refs.
 */
export function refsLeftOut(
  buf: Uint8Array,
  start: number,
  end: number,
  isAttribute: (key: string) => boolean,
): { fields: Set<number>; problems: string[] } | null {
  let out: { fields: Set<number>; problems: string[] } | null = null;
  const r = new WireReader(buf, start, end);
  for (let index = 0; !r.done; ) {
    const at = r.pos;
    const tag = r.tag();
    if (tag >>> 3 !== RESOURCE_ENTITY_REFS) {
      r.skip(tag & 7);
      continue;
    }
    let problem: string | null;
    let shown = '';
    if ((tag & 7) !== WIRE_LEN) {
      r.skip(tag & 7);
      problem = `it is of wire type ${tag & 7}, not an EntityRef message`;
    } else {
      const [s, e] = r.delimited();
      const ref = readEntityRef(buf, s, e);
      if (ref) shown = shownEntityRef(ref);
      problem = ref ? entityRefProblem(ref, isAttribute) : 'its bytes are not an EntityRef message';
    }
    if (problem !== null) {
      out ??= { fields: new Set(), problems: [] };
      out.fields.add(at);
      out.problems.push(entityRefLeftOut(index, shown, problem));
    }
    index++;
  }
  return out;
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
