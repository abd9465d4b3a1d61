// Which earlier trace of a key group made the call that named a later trace's service last: that
// trace is the bridge's parent before the nearest active one (a review: beorn called MDSO at 50 ms,
// palantir's trace ran 100–110 ms, and MDSO's trace at 120 ms hung from palantir's root). The last
// call, not the strongest naming: a review (RV6) saw MDSO's trace hang from palantir's GET by
// peer.service 45 ms before beorn's POST to MDSO's URL, and from an HA pair's other node's call 30 s
// before its own. One index serves the full plan (planBridges) and the kept planning order
// (PlanOrder), so both pick the same parent.
import { pushedCapacity } from '../correlation/heap-sizes.js';
import type { TraceState } from '../correlation/types.js';
import { isCallKind } from '../otlp/call-destination.js';
import { MemberServices, servicesNamedExactly } from './member-services.js';
import { NAMED_BY_HOST_PREFIX, NAMED_CALL_SKEW_MS, namingStrength, NOT_NAMED } from './named-call.js';

/**
 * Up to this many traces with calls that say where they went, a child's parent is found by asking
 * each (NamingIndex.scan): a circuit has a few traces, and lists per service cost more to make
 * than they save. Past it, each service asked about gets its list.
 */
const SCAN_ALL_UP_TO = 32;

/**
 * A trace's calls that say where they went, with what places the trace. PlanOrder keeps one per
 * member with such calls for as long as hot state keeps its group: two arrays, not three, as a
 * whether-a-host array was a quarter of what these added to a tracked trace (bench: correlation,
 * 1616 B/trace before them, 1767 with three arrays, 1730 with two).
 */
interface NamingCalls {
  startMs: number;
  /** Its entry's service: a trace never parents one of its own service, naming it or not. */
  own: string;
  names: string[];
  /** Each call's start, or for a host, -1 - its start (callStart, callIsHost). */
  starts: number[];
}

const callStart = (calls: NamingCalls, i: number) => {
  const v = calls.starts[i]!;
  return v < 0 ? -1 - v : v;
};
const callIsHost = (calls: NamingCalls, i: number) => calls.starts[i]! < 0;

// What the index holds, in bytes of heap, as NamingIndex.bytes estimates it: hot state's budget
// counts it (hot-state-budget.ts), as a call-heavy group holds far more than a flat cost per entry
// (Node 20, 2026-12-07, no pointer compression: a member's 100 named calls ~2.4 KiB; a group of 50
// such members, its lists made, ~660 KiB). A member's calls: the object, its Map entry and two
// arrays' headers, then 16 B per slot of room the arrays grew to (pushed one at a time).
const CALLS_BYTES = 300;
const CALL_SLOT_BYTES = 16;
/** A Naming in a service's list, with its slot (~108 B measured). */
const NAMING_BYTES = 112;
const LIST_BYTES = 128;
/** MemberServices: per service list, and per member entry. */
const MEMBERS_BYTES = 256;
const MEMBER_BYTES = 32;

const callsBytes = (calls: NamingCalls) => CALLS_BYTES + CALL_SLOT_BYTES * pushedCapacity(calls.names.length);

/** Null for a trace whose calls say nothing of where they went: most, and every plan asks each member. */
function namingCalls(t: TraceState): NamingCalls | null {
  let out: NamingCalls | null = null;
  const c = t.candidates;
  for (let i = 0; i < c.length; i++) {
    if (!isCallKind(c.kind(i))) continue;
    const name = c.destinationName(i);
    if (name === '') continue;
    out ??= { startMs: t.entry!.startMs, own: t.entry!.service, names: [], starts: [] };
    out.names.push(name);
    out.starts.push(c.destinationIsHost(i) ? -1 - c.startMs(i) : c.startMs(i));
  }
  return out;
}

/**
 * A call naming a child's service, as parentOf ranks them: by its start, then how plainly it names
 * the service, then its trace's place in planning order (entry start, then trace id). The greatest
 * that qualifies wins.
 */
interface Naming {
  /** The call's destination, as NamingCalls keeps it. */
  name: string;
  callStartMs: number;
  strength: number;
  startMs: number;
  traceId: string;
}

function compareNamings(a: Naming, b: Naming): number {
  return (
    a.callStartMs - b.callStartMs ||
    a.strength - b.strength ||
    a.startMs - b.startMs ||
    (a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0)
  );
}

/** Whether the trace at (startMs, traceId) comes before the child at (childStartMs, childId) in planning order. */
const before = (startMs: number, traceId: string, childStartMs: number, childId: string) =>
  startMs < childStartMs || (startMs === childStartMs && traceId < childId);

/**
 * The members' calls that say where they went, and for each child service asked about, the calls
 * naming it (NamingList). A service's list is made on its first question and kept up to date after,
 * so a change costs a namingStrength per call and service asked about (a circuit's few), not one
 * per service every host could name.
 */
export class NamingIndex {
  private readonly traces = new Map<string, NamingCalls>();
  /** Per child service (as its entry names it), the calls naming it. */
  private readonly byService = new Map<string, NamingList>();
  /**
   * The members' entries, made on the first host prefix asked about (namesAnother): most groups
   * have none, and hot state keeps a PlanOrder's index per group (bench: correlation, 1815 B/trace
   * with them made for every group, 1728 made on first need, 1730 before them).
   */
  private members: MemberServices | null = null;
  /** callsBytes of every member in `traces`, kept as they come and go: bytes adds the rest. */
  private callsBytes = 0;

  /** `allMembers`: the group's members' entries, as set has taken them in (service, start, id). */
  constructor(private readonly allMembers: () => Iterable<readonly [service: string, startMs: number, traceId: string]>) {}

  /** Takes in a trace with an entry span, not in yet (delete takes one out). */
  set(t: TraceState): void {
    this.deleteCalls(t.traceId);
    this.members?.add(t.entry!.service, t.entry!.startMs, t.traceId);
    const calls = namingCalls(t);
    if (!calls) return;
    this.traces.set(t.traceId, calls);
    this.callsBytes += callsBytes(calls);
    for (const [service, list] of this.byService) for (const n of namingsOf(calls, t.traceId, service)) list.insert(n);
  }

  /** Takes a trace out: its calls, and its entry as it was taken in (null: it had none). */
  delete(traceId: string, entry: { service: string; startMs: number } | null): void {
    if (entry) this.members?.remove(entry.service, entry.startMs, traceId);
    this.deleteCalls(traceId);
  }

  private deleteCalls(traceId: string): void {
    const calls = this.traces.get(traceId);
    if (!calls) return;
    for (const [service, list] of this.byService) for (const n of namingsOf(calls, traceId, service)) list.remove(n);
    this.traces.delete(traceId);
    this.callsBytes -= callsBytes(calls);
  }

  get size(): number {
    return this.traces.size;
  }

  /** An estimate of the heap the index holds (CALLS_BYTES and after): a few operations, not one per call. */
  get bytes(): number {
    let bytes = this.callsBytes;
    for (const list of this.byService.values()) bytes += LIST_BYTES + NAMING_BYTES * list.size;
    if (this.members) bytes += MEMBERS_BYTES * this.members.services + MEMBER_BYTES * this.members.size;
    return bytes;
  }

  /**
   * The trace that parents a child whose entry (of `service`) starts at `startMs` (trace id
   * `traceId`) by naming it: of the traces of another service before it in planning order, the
   * one whose call naming its service started last within [startMs − window, startMs +
   * NAMED_CALL_SKEW_MS] (the hosts' clocks differ: a call just after the child competes alike by
   * its start); on a tie, the stronger naming, then the later in planning order. Such a trace is
   * active at the child's start by construction: its spans run at least until that call. A host
   * that only begins with the service's name does not name it when it is by name another service
   * with a member within the window before the child (namesAnother). Null when none names it.
   */
  parentOf(startMs: number, traceId: string, service: string, windowMs: number): string | null {
    if (this.traces.size === 0) return null;
    if (this.traces.size <= SCAN_ALL_UP_TO && !this.byService.has(service)) return this.scan(startMs, traceId, service, windowMs);
    const fromMs = startMs - windowMs;
    const counts = (n: Naming) =>
      before(n.startMs, n.traceId, startMs, traceId) &&
      !(n.strength === NAMED_BY_HOST_PREFIX && this.namesAnother(n.name, fromMs, startMs, traceId));
    return this.listOf(service).latest(fromMs, startMs + NAMED_CALL_SKEW_MS, counts);
  }

  /**
   * Whether host `name` is by name a service with a member starting within [fromMs, the child at
   * (startMs, traceId)): that service took the call (RV6: mdso-sim.lab is mdso-sim's, not mdso's).
   * Only a host prefix asks, so `name` is never by name the child's own service.
   */
  private namesAnother(name: string, fromMs: number, startMs: number, traceId: string): boolean {
    const members = (this.members ??= MemberServices.of(this.allMembers()));
    return servicesNamedExactly(name).some(s => members.startsBetween(s, fromMs, startMs, traceId));
  }

  /** parentOf by asking every trace: exact, and for a circuit's usual few, cheaper than a list. */
  private scan(startMs: number, traceId: string, service: string, windowMs: number): string | null {
    let best: Naming | null = null;
    const lower = service.toLowerCase();
    const fromMs = startMs - windowMs;
    const byMs = startMs + NAMED_CALL_SKEW_MS;
    for (const [id, calls] of this.traces) {
      if (calls.own === service || !before(calls.startMs, id, startMs, traceId)) continue;
      for (let i = 0; i < calls.names.length; i++) {
        const callStartMs = callStart(calls, i);
        if (callStartMs < fromMs || callStartMs > byMs) continue;
        const name = calls.names[i]!;
        const strength = namingStrength(name, callIsHost(calls, i), lower);
        if (strength <= NOT_NAMED) continue;
        const n: Naming = { name, callStartMs, strength, startMs: calls.startMs, traceId: id };
        if (best !== null && compareNamings(n, best) <= 0) continue;
        if (strength === NAMED_BY_HOST_PREFIX && this.namesAnother(name, fromMs, startMs, traceId)) continue;
        best = n;
      }
    }
    return best?.traceId ?? null;
  }

  private listOf(service: string): NamingList {
    const known = this.byService.get(service);
    if (known) return known;
    const namings: Naming[] = [];
    for (const [traceId, calls] of this.traces) namings.push(...namingsOf(calls, traceId, service));
    const list = NamingList.of(namings);
    this.byService.set(service, list);
    return list;
  }
}

/** The calls of a trace that name `service`; none when it is the trace's own. */
function namingsOf(calls: NamingCalls, traceId: string, service: string): Naming[] {
  const out: Naming[] = [];
  if (calls.own === service) return out;
  // Destinations are kept lower-cased; services are matched without regard to case (named-call.ts).
  const lower = service.toLowerCase();
  for (let i = 0; i < calls.names.length; i++) {
    const name = calls.names[i]!;
    const strength = namingStrength(name, callIsHost(calls, i), lower);
    if (strength <= NOT_NAMED) continue;
    out.push({ name, callStartMs: callStart(calls, i), strength, startMs: calls.startMs, traceId });
  }
  return out;
}

/**
 * The calls naming one service, in compareNamings' order. A child bisects to the last call that
 * may still be its cause and walks back to the first that counts: those it skips are of traces
 * starting after it yet calling within the clock-skew tolerance, or host prefixes another
 * service took, few at a time.
 */
class NamingList {
  private readonly namings: Naming[] = [];

  get size(): number {
    return this.namings.length;
  }

  /** The list of `namings` in any order. */
  static of(namings: Naming[]): NamingList {
    const list = new NamingList();
    list.namings.push(...namings.sort(compareNamings));
    return list;
  }

  insert(n: Naming): void {
    this.namings.splice(this.firstNotBefore(n), 0, n);
  }

  remove(n: Naming): void {
    const at = this.firstNotBefore(n);
    if (at < this.namings.length && compareNamings(this.namings[at]!, n) === 0) this.namings.splice(at, 1);
  }

  /** The trace of the greatest call starting within [fromMs, byMs] that `counts` for the child. */
  latest(fromMs: number, byMs: number, counts: (n: Naming) => boolean): string | null {
    let lo = 0;
    let hi = this.namings.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.namings[mid]!.callStartMs <= byMs) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo - 1; k >= 0; k--) {
      const n = this.namings[k]!;
      if (n.callStartMs < fromMs) return null;
      if (counts(n)) return n.traceId;
    }
    return null;
  }

  private firstNotBefore(n: Naming): number {
    let lo = 0;
    let hi = this.namings.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareNamings(this.namings[mid]!, n) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
