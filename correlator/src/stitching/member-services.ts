// Which services a key group's members' entries are of, and when each starts: a host that is one
// member's service by name is that service's, not another's it only begins with (RV6: beorn called
// mdso-sim.lab, a trace of mdso-sim took the call, and MDSO's trace still hung from it).
import { planningPosition } from './planning-position.js';

/** Per service (lower-cased, as named-call.ts matches them), its members' entries in planning order. */
export class MemberServices {
  private readonly byService = new Map<string, { starts: number[]; ids: string[] }>();
  /** Member entries held, for NamingIndex.bytes. */
  size = 0;

  get services(): number {
    return this.byService.size;
  }

  static of(members: Iterable<readonly [service: string, startMs: number, traceId: string]>): MemberServices {
    const out = new MemberServices();
    for (const [service, startMs, traceId] of members) out.add(service, startMs, traceId);
    return out;
  }

  add(service: string, startMs: number, traceId: string): void {
    const key = service.toLowerCase();
    let list = this.byService.get(key);
    if (!list) this.byService.set(key, (list = { starts: [], ids: [] }));
    const at = planningPosition(list.starts, list.ids, startMs, traceId);
    if (list.ids[at] === traceId && list.starts[at] === startMs) return;
    list.starts.splice(at, 0, startMs);
    list.ids.splice(at, 0, traceId);
    this.size++;
  }

  remove(service: string, startMs: number, traceId: string): void {
    const key = service.toLowerCase();
    const list = this.byService.get(key);
    if (!list) return;
    const at = planningPosition(list.starts, list.ids, startMs, traceId);
    if (list.ids[at] !== traceId) return;
    list.starts.splice(at, 1);
    list.ids.splice(at, 1);
    this.size--;
    if (list.ids.length === 0) this.byService.delete(key);
  }

  /**
   * Whether a member of `service` (lower-cased) starts at or after `fromMs` and before the child
   * at (startMs, traceId) in planning order: within the window before the child, so a change to
   * one replans only children its own place reaches (the engine's changedReach).
   */
  startsBetween(service: string, fromMs: number, startMs: number, traceId: string): boolean {
    const list = this.byService.get(service);
    if (!list) return false;
    const at = planningPosition(list.starts, list.ids, startMs, traceId);
    return at > 0 && list.starts[at - 1]! >= fromMs;
  }
}

/**
 * The services a host `name` (lower-cased) is by name (namingStrength's NAMED_BY_HOST): itself,
 * and each part of it before a `.` or `:` (`mdso-sim.lab:443` → `mdso-sim`, `mdso-sim.lab`).
 */
export function servicesNamedExactly(name: string): string[] {
  const out: string[] = [];
  for (let j = 1; j < name.length; j++) if (name[j] === '.' || name[j] === ':') out.push(name.slice(0, j));
  out.push(name);
  return out;
}
