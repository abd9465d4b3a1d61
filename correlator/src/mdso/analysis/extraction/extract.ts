// Chooses the error text of one failure: the TraceLog rules first (META's, then StatusUpdater's), then
// the resource's own error properties, then its reason. Records which source won so a reader can see
// why two failures with the same reason text were categorised differently.
import type { FailureInput } from '../types.js';
import { metaRule, statusUpdaterRule } from './trace-rules.js';
import { parseReason } from './reason.js';

export type ExtractionRule =
  | 'meta'
  | 'status_updater'
  | 'network_service_error'
  | 'cpe_activation_error'
  | 'reason'
  | 'none';

export interface Extraction {
  rule: ExtractionRule;
  text: string;
  /** the failing process (TraceLog) or script (reason), when known */
  failingStep: string | null;
  /** StatusUpdater's text when META's rule won and StatusUpdater found one too */
  statusUpdaterText: string | null;
}

const PROPERTY_SOURCES = ['network_service_error', 'cpe_activation_error'] as const;

export function extractFailure(input: Pick<FailureInput, 'resourceTypeId' | 'reason' | 'orchTrace' | 'properties'>): Extraction {
  const reasonParsed = input.reason ? parseReason(input.reason) : null;
  const entries = input.orchTrace?.entries ?? [];
  if (entries.length > 0) {
    const meta = metaRule(entries, input.resourceTypeId);
    const su = statusUpdaterRule(entries);
    const chosen = meta ?? su;
    if (chosen) {
      return {
        rule: chosen.rule,
        text: chosen.text,
        failingStep: chosen.process,
        statusUpdaterText: meta && su ? su.text : null,
      };
    }
  }
  for (const key of PROPERTY_SOURCES) {
    const v = input.properties?.[key];
    if (typeof v === 'string' && v.trim() !== '') {
      return { rule: key, text: v.trim(), failingStep: reasonParsed?.failingScript ?? null, statusUpdaterText: null };
    }
  }
  if (reasonParsed && reasonParsed.message !== '') {
    return { rule: 'reason', text: reasonParsed.message, failingStep: reasonParsed.failingScript, statusUpdaterText: null };
  }
  return { rule: 'none', text: '', failingStep: reasonParsed?.failingScript ?? null, statusUpdaterText: null };
}
