// The two rules that pick the failing step out of a TraceLog's orchestration_trace (mdso-api.md §3.2).
// Both are kept because they disagree on purpose: META skips only ConnectivityCheck entries of a
// NetworkService and takes any entry carrying a categorized_error, MDSO's StatusUpdater takes the first
// entry that is neither STARTED nor COMPLETED outside the device connectivity check.
import type { OrchTraceEntry } from '../types.js';

export type TraceRule = 'meta' | 'status_updater';

export interface TraceExtraction {
  rule: TraceRule;
  text: string;
  /** `process` of the chosen entry, e.g. "networkservice.PeServiceProvisioner" */
  process: string | null;
  entryIndex: number;
}

const META_MAX_CHARS = 500;
const STATUS_UPDATER_MAX_CHARS = 150;
const CONNECTIVITY_CHECK_TYPE = 'tosca.resourceTypes.ConnectivityCheck';

function isNetworkService(resourceTypeId: string): boolean {
  return resourceTypeId === 'charter.resourceTypes.NetworkService' || resourceTypeId === 'NetworkService';
}

/** The last dotted part of a process name: META appends the class, not the module path. */
export function processToken(process: string | undefined): string {
  if (!process) return '';
  const parts = process.trim().split('.');
  return parts[parts.length - 1] ?? '';
}

/** META's clean-up of a categorized_error, done before it goes into the spreadsheet. */
export function metaNormalise(categorizedError: string): string {
  return categorizedError.slice(0, META_MAX_CHARS).replace(/\r?\n/g, '').replace(/"/g, "'").replace(/\^/g, ' ');
}

export function metaRule(entries: readonly OrchTraceEntry[], resourceTypeId: string): TraceExtraction | null {
  const skipConnectivity = isNetworkService(resourceTypeId);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!e.categorized_error) continue;
    if (skipConnectivity && e.resource_type === CONNECTIVITY_CHECK_TYPE) continue;
    const token = processToken(e.process);
    const text = metaNormalise(e.categorized_error) + (token ? ` - ${token}` : '');
    return { rule: 'meta', text, process: e.process ?? null, entryIndex: i };
  }
  return null;
}

export function statusUpdaterRule(entries: readonly OrchTraceEntry[]): TraceExtraction | null {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const state = (e.state ?? '').toUpperCase();
    if (state === 'STARTED' || state === 'COMPLETED') continue;
    if ((e.process ?? '').toLowerCase().includes('deviceconnectivitycheck')) continue;
    // StatusUpdater stops at this entry whether or not it carries a categorized error.
    if (!e.categorized_error) return null;
    return {
      rule: 'status_updater',
      text: e.categorized_error.slice(0, STATUS_UPDATER_MAX_CHARS),
      process: e.process ?? null,
      entryIndex: i,
    };
  }
  return null;
}
