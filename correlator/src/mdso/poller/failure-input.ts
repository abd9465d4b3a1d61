// A failed MDSO resource and its TraceLogs → the analysis side's FailureInput. Pure.
import { createHash } from 'node:crypto';
import type { FailureInput, OrchTraceEntry } from '../analysis/index.js';
import type { MdsoResource } from '../client/mdso-client.js';
import { CLOCK_SET_MS } from '../../otlp/item-times.js';

const CIRCUIT_ID = /^\d{2}\.[A-Z0-9]{4}\.\d{6}\.\.(CHTR|TWCC)$/;

export function shortProductName(resourceTypeId: string): string {
  return resourceTypeId.split('.').pop() ?? resourceTypeId;
}

export function circuitIdOf(resource: MdsoResource): string | null {
  const prop = resource.properties?.['circuit_id'];
  if (typeof prop === 'string' && prop !== '') return prop;
  return CIRCUIT_ID.test(resource.label) ? resource.label : null;
}

/** updatedAt, else createdAt, as epoch ms; null when neither parses. */
export function changedAtMs(resource: MdsoResource): number | null {
  for (const v of [resource.updatedAt, resource.createdAt]) {
    if (typeof v === 'string') {
      const ms = Date.parse(v);
      if (Number.isFinite(ms)) return ms;
    }
  }
  return null;
}

/**
 * createdAt as epoch ms, where the failure's spans start without a TraceLog; null when it does not
 * parse, or is at or before 2000 (item-times.ts): a start the correlator refuses as a clock not yet
 * set, which lost the failure's span, where null starts it at the failure.
 */
export function createdAtMs(resource: MdsoResource): number | null {
  const ms = typeof resource.createdAt === 'string' ? Date.parse(resource.createdAt) : NaN;
  return Number.isFinite(ms) && ms > CLOCK_SET_MS ? ms : null;
}

function startTimeSec(t: MdsoResource): number | null {
  const v = t.properties?.['start_time_sec'];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

/**
 * The TraceLog of this failure: a resource re-activated several times has several; take the newest
 * one that started no later than the failure.
 */
export function pickTraceLog(traceLogs: readonly MdsoResource[], failedAtMs: number): MdsoResource | null {
  let best: MdsoResource | null = null;
  let bestStart = -Infinity;
  for (const t of traceLogs) {
    const start = startTimeSec(t);
    const startMs = start === null ? (changedAtMs(t) ?? 0) : start * 1000;
    if (startMs > failedAtMs + 1000) continue;
    if (startMs > bestStart) {
      best = t;
      bestStart = startMs;
    }
  }
  return best ?? traceLogs[0] ?? null;
}

function toEntries(raw: unknown): OrchTraceEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: OrchTraceEntry[] = [];
  for (const item of raw) {
    if (!item || typeof item !== 'object') continue;
    const src = item as Record<string, unknown>;
    const e: OrchTraceEntry = {};
    for (const k of ['timestamp', 'resource_type', 'resource_id', 'process', 'log_file', 'message', 'state', 'categorized_error', 'resource_name'] as const) {
      if (typeof src[k] === 'string') e[k] = src[k];
    }
    const elapsed = src['elapsed_time'];
    if (typeof elapsed === 'number') e.elapsed_time = elapsed;
    else if (typeof elapsed === 'string' && /^\d+$/.test(elapsed)) e.elapsed_time = Number(elapsed);
    out.push(e);
  }
  return out;
}

/** The resource properties the analysis side prefers over `reason` (Palantir's rule). */
const ERROR_PROPERTIES = ['network_service_error', 'network_service_status', 'cpe_activation_error', 'msa_activation_error', 'failure_status'];

export function toFailureInput(resource: MdsoResource, traceLog: MdsoResource | null): FailureInput {
  const occurredAtMs = changedAtMs(resource) ?? 0;
  const properties: Record<string, unknown> = {};
  for (const k of ERROR_PROPERTIES) {
    const v = resource.properties?.[k];
    if (v !== undefined && v !== null && v !== '') properties[k] = v;
  }
  const input: FailureInput = {
    resourceId: resource.id,
    resourceTypeId: resource.resourceTypeId,
    product: shortProductName(resource.resourceTypeId),
    label: resource.label,
    circuitId: circuitIdOf(resource),
    orchState: resource.orchState,
    reason: typeof resource.reason === 'string' ? resource.reason : '',
    occurredAtMs,
    orchTrace: traceLog
      ? { traceLogId: traceLog.id, startTimeSec: startTimeSec(traceLog), entries: toEntries(traceLog.properties?.['orchestration_trace']) }
      : null,
  };
  if (Object.keys(properties).length > 0) input.properties = properties;
  return input;
}

/**
 * Identity of one failure of a resource. updatedAt alone is not it: MDSO bumps updatedAt when plans
 * write observed properties after the failure (network_service_error, …), which is the same failure.
 * The reason is: it ends with the run's log file name, which carries the run's start time, so a new
 * run that fails the same way still gets a new key. Without a reason, updatedAt is all there is.
 */
export function failureOccurrenceKey(resource: MdsoResource, updatedMs: number): string {
  const reason = typeof resource.reason === 'string' ? resource.reason : '';
  return reason ? `r:${createHash('sha256').update(reason).digest('hex').slice(0, 32)}` : `u:${updatedMs}`;
}
