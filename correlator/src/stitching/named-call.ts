// Whether an outgoing call names the service a later trace belongs to: the bridge into that trace
// then hangs from it (bridge-planner.ts), whatever other calls its trace made in between.
import type { CallDestination } from '../otlp/call-destination.js';

/** The call names the service by its `peer.service`: what its instrumentation was told it calls. */
export const NAMED_BY_SERVICE = 3;
/** The call reached a host that is the service's name, or a domain under it (`mdso`, `mdso.example.net`, `mdso:8443`). */
export const NAMED_BY_HOST = 2;
/**
 * The call reached a host whose name only begins with the service's (`mdso-bpo`): likely the
 * service's, but `mdso-proxy` is another service, so within a trace an exact host beats it (a
 * review's case). Across traces the later call wins (naming-index.ts): an HA node's host; but
 * not a host that is by name another member's service (`mdso-sim.lab` when mdso-sim took it).
 */
export const NAMED_BY_HOST_PREFIX = 1;
export const NOT_NAMED = 0;
/**
 * The call's `peer.service` names another service: it went there, so it is the parent of a trace
 * of this one only when nothing else can be (a review: palantir's trace hung from beorn's call to
 * MDSO). A host that is not the service's says less (an IP address, a load balancer) and is taken
 * as naming no one.
 */
export const NAMES_ANOTHER_SERVICE = -1;

/**
 * How long after a child's entry a call that names the child's service may start and still be its
 * cause. A call's start and the child's entry are read from two hosts' clocks: a client on a host
 * running ahead looks as if it called after the server began. NTP keeps hosts on one network
 * within a few milliseconds, VMs after a pause or hosts synced to different sources tens of them;
 * beyond that the stitched view's clock check (clock-skew.ts) flags the bridge instead. Only a call
 * that names the child gets it (an unnamed later call says nothing of the child). Within a trace
 * it ranks after every call naming it alike that starts in time (chooseParentSpan); across traces
 * it competes by its start (naming-index.ts): a review (RV6) saw an MDSO 2 ms behind its caller
 * hang from another activation's call 30 s before rather than its own.
 */
export const NAMED_CALL_SKEW_MS = 50;

/**
 * How plainly a call whose destination is `name` (lower-cased, as call-destination.ts keeps it;
 * '' for none) names `service` (lower-cased): NAMED_BY_SERVICE, NAMED_BY_HOST, NAMED_BY_HOST_PREFIX,
 * NOT_NAMED or NAMES_ANOTHER_SERVICE.
 */
export function namingStrength(name: string, isHost: CallDestination['isHost'], service: string): number {
  if (name === '' || service === '') return NOT_NAMED;
  if (!isHost) return name === service ? NAMED_BY_SERVICE : NAMES_ANOTHER_SERVICE;
  if (!name.startsWith(service)) return NOT_NAMED;
  const next = name.charAt(service.length);
  if (next === '' || next === '.' || next === ':') return NAMED_BY_HOST;
  return next === '-' ? NAMED_BY_HOST_PREFIX : NOT_NAMED;
}
