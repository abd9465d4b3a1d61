// Span links as the service graph draws them: an OTLP link names a span of another trace (a
// consumer linking its producer, a batch job the request that queued it), and the graph shows it as
// a hop from the linked span's service to the linking span's. The links table names spans only, so
// their services are learnt as the graph reads its traces' spans.

/** A stored OTLP link: the source span links the target span. */
export interface SpanLinkRow {
  source_trace_id: string;
  source_span_id: string;
  target_trace_id: string;
  target_span_id: string;
}

/** From the linked span's service to the linking span's; failed when the linking span did. */
export interface LinkHop {
  source: string;
  target: string;
  failed: boolean;
}

interface ReadEnd {
  service: string;
  failed: boolean;
}

/** The spans the links name, noted while the graph reads spans; each link then gives one hop. */
export class LinkEnds {
  /** By trace: most traces hold no link end, and their spans are then passed over without a look-up. */
  private readonly wanted = new Map<string, Map<string, ReadEnd | null>>();

  constructor(private readonly links: readonly SpanLinkRow[]) {
    for (const l of links) {
      this.want(l.source_trace_id, l.source_span_id);
      this.want(l.target_trace_id, l.target_span_id);
    }
  }

  private want(traceId: string, spanId: string): void {
    let spans = this.wanted.get(traceId);
    if (!spans) this.wanted.set(traceId, (spans = new Map()));
    spans.set(spanId, null);
  }

  /** The trace's spans that links name, to note as they are read; undefined when it has none. */
  of(traceId: string): Map<string, ReadEnd | null> | undefined {
    return this.wanted.get(traceId);
  }

  /**
   * A hop per link whose two spans were read, in different services: a link to a span not read
   * names no service, and one within a service is no hop between services (as a parent link is not).
   */
  hops(): LinkHop[] {
    const hops: LinkHop[] = [];
    for (const l of this.links) {
      const linking = this.wanted.get(l.source_trace_id)?.get(l.source_span_id);
      const linked = this.wanted.get(l.target_trace_id)?.get(l.target_span_id);
      if (linking && linked && linking.service !== linked.service)
        hops.push({ source: linked.service, target: linking.service, failed: linking.failed });
    }
    return hops;
  }
}

/** Notes a span the trace's links name (`ends`, from LinkEnds.of) as read. */
export function noteLinkEnd(ends: Map<string, ReadEnd | null>, spanId: string, service: string, failed: boolean): void {
  if (ends.has(spanId)) ends.set(spanId, { service, failed });
}
