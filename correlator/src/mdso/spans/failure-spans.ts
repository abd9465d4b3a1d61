// An MDSO failure as OTLP spans: a parent span for the resource's orchestration and one span per
// orchestration step, so MDSO shows up in the stitched circuit view between the SENSE calls. Ids are
// hashes of (resource id, orchestration trace id): re-polling the same failure re-sends the same
// spans, which the core de-duplicates.
import { createHash } from 'node:crypto';
import type { FailureInput, OrchTraceEntry } from '../analysis/index.js';
import type { OtlpJsonKeyValue, OtlpJsonSpan, OtlpJsonTraceRequest } from '../ingest-types.js';

export const MDSO_SERVICE_NAME = 'mdso';
const SCOPE_NAME = 'correlation-station.mdso-poller';
const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_SERVER = 2;
const MAX_STATUS_MESSAGE = 1000;

function hashHex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function attr(key: string, value: string | number | null | undefined): OtlpJsonKeyValue[] {
  if (value === null || value === undefined || value === '') return [];
  return [{ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } }];
}

function nanos(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

interface Step {
  key: string;
  start: OrchTraceEntry;
  startMs: number;
  end: OrchTraceEntry | null;
  endMs: number | null;
}

/** Pairs STARTED entries with their COMPLETED/FAILED entry (same resource and process). */
export function pairSteps(entries: readonly OrchTraceEntry[], topResourceId: string, timeOf: (e: OrchTraceEntry) => number): Step[] {
  const steps: Step[] = [];
  const open = new Map<string, Step[]>();
  entries.forEach((e, index) => {
    if (e.resource_id === topResourceId) return; // the top resource's entries bound the parent span
    const identity = `${e.resource_id ?? ''}|${e.process ?? ''}`;
    const state = (e.state ?? '').toUpperCase();
    if (state === 'STARTED') {
      const step: Step = { key: `${identity}|${index}`, start: e, startMs: timeOf(e), end: null, endMs: null };
      steps.push(step);
      const list = open.get(identity);
      if (list) list.push(step);
      else open.set(identity, [step]);
      return;
    }
    const pending = open.get(identity)?.shift();
    if (pending) {
      pending.end = e;
      pending.endMs = timeOf(e);
    } else {
      // an end without a start (trimmed trace): a zero-length step at that moment
      steps.push({ key: `${identity}|${index}`, start: e, startMs: timeOf(e), end: e, endMs: timeOf(e) });
    }
  });
  return steps;
}

function stepStatus(end: OrchTraceEntry | null): OtlpJsonSpan['status'] {
  if (!end) return { code: 0 };
  if ((end.state ?? '').toUpperCase() === 'FAILED') {
    return { code: 2, message: (end.categorized_error ?? end.message ?? 'failed').slice(0, MAX_STATUS_MESSAGE) };
  }
  return { code: 1 };
}

/** The failure's error text for the parent span: the failing step's categorised error, else the reason. */
function parentMessage(input: FailureInput): string {
  const failed = input.orchTrace?.entries.find(e => (e.state ?? '').toUpperCase() === 'FAILED' && e.categorized_error);
  return (failed?.categorized_error ?? input.reason ?? 'failed').slice(0, MAX_STATUS_MESSAGE);
}

export function failureTraceId(input: FailureInput): string {
  return hashHex(`mdso|${input.resourceId}|${input.orchTrace?.traceLogId ?? `t${input.occurredAtMs}`}`, 32);
}

/**
 * `createdAtMs` is the resource's creation, the parent's start when the failure has no TraceLog.
 * Entry times are start_time_sec + elapsed_time: the entries' own `timestamp` has no date.
 */
export function buildFailureSpans(input: FailureInput, createdAtMs: number | null = null): OtlpJsonTraceRequest {
  const traceId = failureTraceId(input);
  const rootId = hashHex(`${traceId}|root`, 16);
  const entries = input.orchTrace?.entries ?? [];
  const startSec = input.orchTrace?.startTimeSec ?? null;
  const fallbackStartMs = createdAtMs ?? input.occurredAtMs;
  const timeOf = (e: OrchTraceEntry): number =>
    startSec !== null && typeof e.elapsed_time === 'number' ? (startSec + e.elapsed_time) * 1000 : fallbackStartMs;

  const steps = pairSteps(entries, input.resourceId, timeOf);
  const entryTimes = entries.map(timeOf);
  const rootStart = Math.min(startSec !== null ? startSec * 1000 : fallbackStartMs, ...entryTimes);
  const rootEnd = Math.max(rootStart, input.occurredAtMs, ...entryTimes);

  const common = [...attr('circuit_id', input.circuitId), ...attr('mdso.product_name', input.product)];
  const spans: OtlpJsonSpan[] = [
    {
      traceId,
      spanId: rootId,
      name: `mdso.product.${input.product}`,
      kind: SPAN_KIND_SERVER,
      startTimeUnixNano: nanos(rootStart),
      endTimeUnixNano: nanos(rootEnd),
      attributes: [
        ...common,
        ...attr('resource_id', input.resourceId),
        ...attr('mdso.resource_type', input.resourceTypeId),
        ...attr('mdso.orch_state', input.orchState),
        ...attr('mdso.label', input.label),
        ...attr('mdso.trace_log_id', input.orchTrace?.traceLogId),
        ...attr('mdso.process', entries.find(e => e.resource_id === input.resourceId)?.process),
      ],
      status: { code: 2, message: parentMessage(input) },
    },
  ];
  for (const step of steps) {
    const endMs = step.endMs ?? rootEnd;
    spans.push({
      traceId,
      spanId: hashHex(`${traceId}|${step.key}`, 16),
      parentSpanId: rootId,
      name: step.start.process ?? step.start.resource_type ?? 'mdso.step',
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: nanos(step.startMs),
      endTimeUnixNano: nanos(Math.max(step.startMs, endMs)),
      attributes: [
        ...common,
        ...attr('resource_id', step.start.resource_id),
        ...attr('mdso.resource_type', step.start.resource_type),
        ...attr('mdso.process', step.start.process),
        ...attr('mdso.orch_state', step.end?.state ?? step.start.state),
        ...attr('mdso.resource_name', step.start.resource_name),
        ...attr('mdso.log_file', step.start.log_file),
        ...attr('mdso.origination_id', input.resourceId),
      ],
      status: stepStatus(step.end),
    });
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [...attr('service.name', MDSO_SERVICE_NAME)] },
        scopeSpans: [{ scope: { name: SCOPE_NAME }, spans }],
      },
    ],
  };
}
