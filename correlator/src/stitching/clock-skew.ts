// How far apart two services' clocks can be, from the calls trace context shows between them, and
// whether a bridge's direction survives that. A bridge orders disconnected traces by the start
// times of their entry spans, each read from its own host's clock: a host running behind makes
// its trace look earlier than the trace that caused it. No disconnected trace carries causal
// evidence of its own, but a synchronous call does: the server span runs within its client span
// in true time, so each call bounds the offset between the two clocks.
import type { Bridge, BridgeClockCheck, ClockOffset } from '@correlation-station/api-schema';
import { SPAN_KIND_CLIENT } from '../correlation/types.js';

export const SPAN_KIND_SERVER = 2;

/** A span with what a call's timing needs. */
export interface TimedSpan {
  spanId: string;
  parentSpanId: string;
  service: string;
  kind: number;
  startMs: number;
  endMs: number;
}

/** One call between two services that trace context connects: a client span and its server child. */
export interface ServiceCall {
  client: TimedSpan;
  server: TimedSpan;
}

/** The calls between two services within the given spans (one trace or several). */
export function serviceCalls(spans: readonly TimedSpan[]): ServiceCall[] {
  const byId = new Map<string, TimedSpan>();
  for (const s of spans) if (s.kind === SPAN_KIND_CLIENT) byId.set(s.spanId, s);
  const calls: ServiceCall[] = [];
  for (const s of spans) {
    if (s.kind !== SPAN_KIND_SERVER || s.parentSpanId === '') continue;
    const client = byId.get(s.parentSpanId);
    if (client && client.service !== s.service) calls.push({ client, server: s });
  }
  return calls;
}

interface Bounds {
  low: number;
  high: number;
  calls: number;
}

/** Offsets between services, learnt from calls and combined along chains of services. */
export class ClockSkewEvidence {
  /** By "from\0to" with from < to: the offset of `to`'s clock from `from`'s. */
  private readonly pairs = new Map<string, Bounds>();
  private readonly neighbours = new Map<string, Set<string>>();

  static of(calls: Iterable<ServiceCall>): ClockSkewEvidence {
    const e = new ClockSkewEvidence();
    for (const c of calls) e.add(c);
    return e;
  }

  /**
   * In true time the server starts after its client and ends before it. With d the server's
   * clock minus the client's: server.start - d >= client.start and server.end - d <= client.end.
   */
  add({ client, server }: ServiceCall): void {
    const high = server.startMs - client.startMs;
    const low = server.endMs - client.endMs;
    if (!Number.isFinite(high) || !Number.isFinite(low)) return;
    const [a, b] = [client.service, server.service];
    // Kept once per pair of services, in name order: a call the other way bounds the negation.
    const [from, to, lo, hi] = a < b ? [a, b, low, high] : [b, a, -high, -low];
    const key = `${from}\u0000${to}`;
    const p = this.pairs.get(key);
    if (p) {
      p.low = Math.max(p.low, lo);
      p.high = Math.min(p.high, hi);
      p.calls++;
    } else {
      this.pairs.set(key, { low: lo, high: hi, calls: 1 });
      this.link(from, to);
      this.link(to, from);
    }
  }

  private link(a: string, b: string): void {
    let n = this.neighbours.get(a);
    if (!n) this.neighbours.set(a, (n = new Set()));
    n.add(b);
  }

  /** The pairs of services calls connect, each once in name order. */
  pairsSeen(): { from: string; to: string; offset: ClockOffset }[] {
    return [...this.pairs.keys()].sort().map(key => {
      const [from, to] = key.split('\u0000') as [string, string];
      return { from, to, offset: this.direct(from, to)! };
    });
  }

  /**
   * The offset of `to`'s clock from `from`'s: from their calls, else summed along the shortest
   * chain of services whose calls connect them (the first in name order among equals). Null
   * when nothing connects them.
   */
  between(from: string, to: string): ClockOffset | null {
    if (from === to) return { lowMs: 0, highMs: 0, calls: 0, conflicting: false };
    const path = this.shortestPath(from, to);
    if (!path) return null;
    let sum: ClockOffset = { lowMs: 0, highMs: 0, calls: Infinity, conflicting: false };
    for (let i = 1; i < path.length; i++) {
      const step = this.direct(path[i - 1]!, path[i]!)!;
      sum = {
        lowMs: sum.lowMs + step.lowMs,
        highMs: sum.highMs + step.highMs,
        // As sure as its least-observed step.
        calls: Math.min(sum.calls, step.calls),
        conflicting: sum.conflicting || step.conflicting,
      };
    }
    return sum;
  }

  /** The offset of `to`'s clock from `from`'s from their own calls, either way; null without any. */
  direct(from: string, to: string): ClockOffset | null {
    const flipped = from > to;
    const p = this.pairs.get(flipped ? `${to}\u0000${from}` : `${from}\u0000${to}`);
    if (!p) return null;
    const conflicting = p.low > p.high;
    // Disagreeing calls still place the offset between their bounds.
    const [low, high] = conflicting ? [p.high, p.low] : [p.low, p.high];
    return flipped
      ? { lowMs: round3(-high), highMs: round3(-low), calls: p.calls, conflicting }
      : { lowMs: round3(low), highMs: round3(high), calls: p.calls, conflicting };
  }

  private shortestPath(from: string, to: string): string[] | null {
    if (!this.neighbours.has(from) || !this.neighbours.has(to)) return null;
    const previous = new Map<string, string>([[from, '']]);
    let frontier = [from];
    while (frontier.length > 0 && !previous.has(to)) {
      const next: string[] = [];
      for (const s of frontier)
        for (const n of [...this.neighbours.get(s)!].sort())
          if (!previous.has(n)) {
            previous.set(n, s);
            next.push(n);
          }
      frontier = next;
    }
    if (!previous.has(to)) return null;
    const path = [to];
    while (path[0] !== from) path.unshift(previous.get(path[0]!)!);
    return path;
  }
}

/**
 * `gapMs`: the child entry's start minus the parent span's, each on its own clock. On one clock
 * the gap is gapMs minus the offset, so it lies in [gapMs - highMs, gapMs - lowMs].
 */
export function checkBridgeOrder(gapMs: number, offset: ClockOffset | null): BridgeClockCheck {
  if (!offset) return { order: 'unknown' };
  const order =
    gapMs - offset.highMs >= 0 ? 'consistent' : gapMs - offset.lowMs < 0 ? 'reversed' : 'uncertain';
  return { order, childClockOffset: offset };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The bridges, each with its direction checked against the offsets these calls show. */
export function withClockChecks(
  bridges: readonly Bridge[],
  calls: Iterable<ServiceCall>,
): Bridge[] {
  const clocks = ClockSkewEvidence.of(calls);
  return bridges.map(b => ({
    ...b,
    clockCheck: checkBridgeOrder(b.gapMs, clocks.between(b.parentService, b.childService)),
  }));
}
