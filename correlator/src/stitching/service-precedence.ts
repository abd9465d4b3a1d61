// Which services an unnamed guess may hang a child from. A review (RV9) ran the demo twice 10 s
// apart: the second beorn trace hung from arda's database call of the first run, a bridge arda →
// beorn that never happened, though beorn started that run and arda only followed it. A later root
// of the service that led is a new activation (a retry), not a callee of its own downstream. A
// named call is evidence and is not asked (naming-index.ts).
//
// Service S led X before a child of S when S's first trace within the last two thirds of the window
// came before every trace of X there, and X had no trace running in the third of the window
// before it: X then follows S, and a guess X → S would run the flow backwards. Without the quiet
// part, a steady stream of rotating services (a poller's) looked led by whichever service the
// window's start happened to cut at, and most of it went unbridged.
//
// Why not the chain of bridges planned before (whether the candidate descends from a trace of S):
// a child's parent then depends on the whole circuit before it, where the engine re-plans only the
// children a change reaches within the window (changedReach) and plans locally past the trace cap.
// Here the two parts together look back one window, as the nearest-trace rule does. The cost: a
// retry loop whose first run is two thirds of a window behind is again hung from the run before it.

/**
 * In thirds of the window, how far before a child its service's first trace is looked for; the
 * rest of the window, how long before that trace another service must have had none running.
 */
const LED_WITHIN_THIRDS = 2;

/** Per service, its traces' planning positions and, up to each, the latest end of their spans. */
interface ServiceReach {
  at: number[];
  reach: number[];
}

/** Where a child's service led from: its first trace's position, and since when others must have been quiet. */
export interface Lead {
  first: number;
  quietFromMs: number;
}

export class ServicePrecedence {
  private readonly byService = new Map<string, ServiceReach>();

  /** The traces' entry services, entry starts and spans' end, in planning order. */
  constructor(
    services: ArrayLike<string>,
    private readonly startMs: ArrayLike<number>,
    spanLastMs: ArrayLike<number>,
  ) {
    for (let i = 0; i < services.length; i++) {
      const service = services[i]!;
      let s = this.byService.get(service);
      if (!s) this.byService.set(service, (s = { at: [], reach: [] }));
      const last = spanLastMs[i]!;
      s.at.push(i);
      s.reach.push(s.reach.length === 0 ? last : Math.max(s.reach[s.reach.length - 1]!, last));
    }
  }

  /**
   * Where the service of the child at `position` (starting at `childStartMs`) led from, or null when
   * no trace of it runs within two thirds of the window before the child: every service may parent it.
   */
  leadOf(service: string, childStartMs: number, windowMs: number, position: number): Lead | null {
    const ledFromMs = childStartMs - (windowMs * LED_WITHIN_THIRDS) / 3;
    const first = this.firstRunning(service, ledFromMs, position);
    if (first < 0) return null;
    return { first, quietFromMs: Math.max(this.startMs[first]!, ledFromMs) - (windowMs * (3 - LED_WITHIN_THIRDS)) / 3 };
  }

  /** Whether a trace of `service` may parent, unnamed, a child whose service led from `lead`: `service` did not follow it. */
  mayParent(service: string, lead: Lead | null): boolean {
    return lead === null || this.firstRunning(service, lead.quietFromMs, lead.first) >= 0;
  }

  /** Whether any service other than `childService` may: when none may, a search need not look through every trace. */
  anyMayParent(childService: string, lead: Lead | null): boolean {
    if (lead === null) return true;
    for (const service of this.byService.keys()) if (service !== childService && this.mayParent(service, lead)) return true;
    return false;
  }

  /** The first position before `before` of a trace of `service` whose spans run at `fromMs` or later, or -1. */
  private firstRunning(service: string, fromMs: number, before: number): number {
    const s = this.byService.get(service);
    if (!s) return -1;
    let lo = 0;
    let hi = s.reach.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s.reach[mid]! < fromMs) lo = mid + 1;
      else hi = mid;
    }
    return lo < s.at.length && s.at[lo]! < before ? s.at[lo]! : -1;
  }
}
