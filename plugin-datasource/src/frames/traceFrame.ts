import { createDataFrame, FieldType, type DataFrame, type QueryResultMetaNotice } from '@grafana/data';
import type {
  Bridge,
  Span,
  SpanResource,
  StitchedTrace,
  TraceDetail,
  TraceLink,
} from '@correlation-station/api-schema';
import { tempoTraceLink, lokiLink, type LinkTargets } from './links';
import { collectReferences, spanKey, toKeyValues, treeSafeReferences, type TraceKeyValue } from './traceReferences';
import { nanosToMs } from './time';

interface TraceLog {
  timestamp: number;
  name?: string;
  fields: TraceKeyValue[];
}

const STATUS_CODES = { unset: 0, ok: 1, error: 2 } as const;

function spanTags(span: Span, bridge: Bridge | undefined): TraceKeyValue[] {
  const tags = toKeyValues(span.attributes);
  // The frame mixes several traces; the original trace id stays visible in span details.
  tags.push({ key: 'trace_id', value: span.traceId });
  if (span.status.code === 'error') {
    // Grafana draws the error icon only for this tag (isErrorSpan), not for statusCode.
    tags.push({ key: 'error', value: true });
  }
  if (span.synthetic) {
    tags.push({ key: 'correlator.synthetic', value: true });
  }
  if (bridge) {
    tags.push(
      { key: 'bridge.method', value: bridge.method },
      { key: 'bridge.key', value: `${bridge.key}=${bridge.value}` },
      { key: 'bridge.confidence', value: bridge.confidence },
      { key: 'bridge.basis', value: bridge.basis },
      { key: 'bridge.gap_ms', value: bridge.gapMs }
    );
    const check = bridge.clockCheck;
    if (check) {
      tags.push({ key: 'bridge.clock_check', value: check.order });
      if (check.childClockOffset) {
        const { lowMs, highMs } = check.childClockOffset;
        tags.push({ key: 'bridge.child_clock_offset_ms', value: `${lowMs} to ${highMs}` });
      }
    }
  }
  return tags;
}

/** The clock check's word on a bridge, when it casts doubt on its direction. */
function clockWarning(bridge: Bridge): string | undefined {
  const check = bridge.clockCheck;
  const offset = check?.childClockOffset;
  if (!check || !offset || (check.order !== 'reversed' && check.order !== 'uncertain')) {
    return undefined;
  }
  const clocks =
    `${bridge.childService}'s clock reads ${offset.lowMs} to ${offset.highMs} ms from ${bridge.parentService}'s ` +
    `(from ${offset.calls} call${offset.calls === 1 ? '' : 's'} between them)`;
  return check.order === 'reversed'
    ? `Clock check: ${clocks}; on one clock the child started before its parent span, so clock skew, not causality, may have ordered these traces`
    : `Clock check: ${clocks}, more than the ${bridge.gapMs} ms gap; the bridge's direction is uncertain`;
}

/** What the bridge hangs from, in words, where the operator should weigh it. */
const BASIS_WORDS: Partial<Record<Bridge['basis'], string>> = {
  time_only:
    'a guess on time alone: nothing in the parent trace points at the child (a retry or a poll just before looks the same)',
};

function bridgeWarning(bridge: Bridge): string {
  const confidence = Math.round(bridge.confidence * 100);
  const basis = BASIS_WORDS[bridge.basis];
  return (
    `Synthetic bridge made by the correlator: ${bridge.parentService} → ${bridge.childService} ` +
    `joined by ${bridge.key}=${bridge.value} (${bridge.method}, confidence ${confidence}%)` +
    (basis ? `; ${basis}` : '')
  );
}

function spanLogs(span: Span): TraceLog[] {
  return span.events.map((event) => ({
    timestamp: nanosToMs(event.timeUnixNano),
    name: event.name,
    fields: toKeyValues(event.attributes),
  }));
}

export interface TraceFrameInput {
  refId: string;
  spans: Span[];
  /** The resources and scopes the spans refer to by resourceId. */
  resources: SpanResource[];
  bridges: Bridge[];
  incoming: TraceLink[];
  notices: QueryResultMetaNotice[];
  custom: Record<string, unknown>;
}

/** A frame in Grafana's trace contract (`TraceSpanRow`), one row per span, any number of traces. */
export function buildTraceFrame(input: TraceFrameInput, targets: LinkTargets): DataFrame {
  const { spans } = input;
  const references = treeSafeReferences(spans, collectReferences(spans, input.bridges, input.incoming));
  const bridgeBySpan = new Map(input.bridges.map((b) => [spanKey(b.traceId, b.spanId), b]));
  const bridgeOf = (span: Span) => bridgeBySpan.get(spanKey(span.traceId, span.spanId));
  const resourceById = new Map(input.resources.map((r) => [r.id, r]));
  const resourceOf = (span: Span) => resourceById.get(span.resourceId);

  const traceIdLinks = [];
  if (targets.tempo) {
    traceIdLinks.push(tempoTraceLink(targets.tempo));
  }
  if (targets.loki) {
    traceIdLinks.push(lokiLink(targets.loki, 'trace_id'));
  }

  return createDataFrame({
    refId: input.refId,
    name: 'Trace',
    meta: {
      preferredVisualisationType: 'trace',
      notices: input.notices.length ? input.notices : undefined,
      custom: input.custom,
    },
    fields: [
      {
        name: 'traceID',
        type: FieldType.string,
        values: spans.map((s) => s.traceId),
        config: traceIdLinks.length ? { links: traceIdLinks } : {},
      },
      { name: 'spanID', type: FieldType.string, values: spans.map((s) => s.spanId) },
      // An empty parent would become a reference to a span "" and break the tree.
      { name: 'parentSpanID', type: FieldType.string, values: spans.map((s) => s.parentSpanId || undefined) },
      { name: 'operationName', type: FieldType.string, values: spans.map((s) => s.name) },
      { name: 'serviceName', type: FieldType.string, values: spans.map((s) => s.serviceName) },
      {
        name: 'serviceTags',
        type: FieldType.other,
        values: spans.map((s) => toKeyValues({ 'service.name': s.serviceName, ...resourceOf(s)?.attributes })),
      },
      { name: 'startTime', type: FieldType.number, values: spans.map((s) => s.startTimeMs), config: { unit: 'ms' } },
      { name: 'duration', type: FieldType.number, values: spans.map((s) => s.durationMs), config: { unit: 'ms' } },
      { name: 'logs', type: FieldType.other, values: spans.map(spanLogs) },
      {
        name: 'references',
        type: FieldType.other,
        values: spans.map((s) => references.get(spanKey(s.traceId, s.spanId)) ?? []),
      },
      { name: 'tags', type: FieldType.other, values: spans.map((s) => spanTags(s, bridgeOf(s))) },
      {
        name: 'kind',
        type: FieldType.string,
        values: spans.map((s) => (s.kind === 'unspecified' ? undefined : s.kind)),
      },
      { name: 'statusCode', type: FieldType.number, values: spans.map((s) => STATUS_CODES[s.status.code]) },
      { name: 'statusMessage', type: FieldType.string, values: spans.map((s) => s.status.message ?? '') },
      {
        name: 'instrumentationLibraryName',
        type: FieldType.string,
        values: spans.map((s) => resourceOf(s)?.scope.name ?? ''),
      },
      {
        name: 'instrumentationLibraryVersion',
        type: FieldType.string,
        values: spans.map((s) => resourceOf(s)?.scope.version ?? ''),
      },
      {
        name: 'warnings',
        type: FieldType.other,
        values: spans.map((s) => {
          const bridge = bridgeOf(s);
          if (!bridge) {
            return undefined;
          }
          const clock = clockWarning(bridge);
          return clock ? [bridgeWarning(bridge), clock] : [bridgeWarning(bridge)];
        }),
      },
    ],
  });
}

/** `inTimeRange`: the view was asked for in the dashboard's time range, so its traceCount is the range's. */
export function stitchedTraceFrame(
  refId: string,
  trace: StitchedTrace,
  targets: LinkTargets,
  inTimeRange = false
): DataFrame {
  const notices: QueryResultMetaNotice[] = [];
  // A circuit polled for days: the view covers its most recent traces, and says so.
  if (trace.tracesTruncated) {
    notices.push({ severity: 'warning', text: tracesCutText(trace, inTimeRange) });
  }
  if (trace.truncated) {
    notices.push({
      severity: 'warning',
      text: `Showing ${trace.spans.length} of ${trace.spanCount} spans of the circuit.`,
    });
  }
  return buildTraceFrame(
    {
      refId,
      spans: trace.spans,
      resources: trace.resources,
      bridges: trace.bridges,
      incoming: [],
      notices,
      custom: { circuitId: trace.circuitId, traceIds: trace.traceIds, truncated: trace.truncated },
    },
    targets
  );
}

/** How many of the circuit's traces a cut view covers, of how many (the range's, in a range). */
function tracesCutText(trace: StitchedTrace, inTimeRange: boolean): string {
  const shown = `Showing the ${trace.traceIds.length} most recent`;
  const hint = 'a narrower time range shows older ones.';
  // A correlator older than traceCount says only that traces were cut.
  if (typeof trace.traceCount !== 'number') {
    return `${shown} traces of the circuit: ${hint}`;
  }
  const of = inTimeRange
    ? `of the circuit's ${trace.traceCount} traces in the time range`
    : `of ${trace.traceCount} traces of the circuit`;
  return `${shown} ${of}: ${hint}`;
}

export function traceDetailFrame(refId: string, detail: TraceDetail, targets: LinkTargets): DataFrame {
  const notices: QueryResultMetaNotice[] = detail.truncated
    ? [{ severity: 'warning', text: `Showing ${detail.spans.length} of ${detail.spanCount} spans of the trace.` }]
    : [];
  return buildTraceFrame(
    {
      refId,
      spans: detail.spans,
      resources: detail.resources,
      bridges: detail.bridges,
      incoming: detail.linksIn,
      notices,
      custom: { traceId: detail.summary.traceId, circuitIds: detail.summary.circuitIds },
    },
    targets
  );
}
