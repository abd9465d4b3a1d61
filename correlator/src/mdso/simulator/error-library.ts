// Failure texts in the formats of mdso-api.md §3.1 and §4.1. Details vary with the seed so the
// analysis side sees volatile tokens (ips, TIDs, circuit ids) it has to normalise away.
import { circuitId, fqdn, ipv4, port, tid, uuid } from './identifiers.js';
import type { Rng } from './rng.js';

export type ErrorKind = 'categorized' | 'uncategorized' | 'exception';

export interface ErrorSample {
  kind: ErrorKind;
  /** `categorized_error` of the failing trace entry; null for raw exceptions nobody categorised */
  categorizedError: string | null;
  /** the text CommonPlan.exit_error puts after `Error in <Class>, ` */
  reasonText: string;
}

type Builder = (rng: Rng) => string;

const CATEGORIZED: readonly Builder[] = [
  r => `Granite | Incorrect Data - Required Topologies Data: IP ${ipv4(r)}/29 is not a network address`,
  r => `MDSO | Connectivity Error - Unreachable Live Device: device: ${tid(r)} communication state: UNAVAILABLE equipment status: ${r.pick(['IN SERVICE', 'PLANNED'])}`,
  r => `MDSO | Connectivity Error - Inactive State: device: ${fqdn(r)} orchState: ${r.pick(['failed', 'unknown', 'inactive'])}`,
  r => `Granite | Missing Data - Required Topologies Data: No network function found for fqdn ${fqdn(r)} or ip ${ipv4(r)}`,
  r => `MDSO | Incorrect Data - Required Topologies Data: Network Service already provisioned for circuit id: ${circuitId(r)}, id: ${uuid(r)}`,
  () => 'MDSO | System Error - Application Configuration: No active BPO Constants available',
  r => `MDSO | Automation Unsupported - Required Topologies Data: DEVICE ROLE ${r.pick(['MTU', 'AGG', 'CPE'])} is INVALID for ${r.pick(['JUNIPER MX240', 'CISCO ASR920', 'ADVA 116PRO'])}`,
  r => `MDSO | Process Error - Resource Get: Unable to get resource ${uuid(r)} status code: ${r.pick([404, 500, 503])}`,
  r => `SEnSE | Missing Data - Resource Create: No VLAN available on ${tid(r)} port ${port(r)}`,
];

const UNCATEGORIZED: readonly Builder[] = [
  r => `Unable to connect to device at ${ipv4(r)}`,
  r => `Timed out while waiting for: ${tid(r)} configuration commit`,
  r => `commit failed on ${tid(r)}: error: configuration check-out failed on ${port(r)}`,
];

const EXCEPTIONS: ReadonlyArray<{ cls: string; text: Builder }> = [
  { cls: 'scripts.CLIManager.CLIManager', text: () => "unsupported operand type(s) for +: 'NoneType' and 'str'" },
  { cls: 'scripts.serviceMapper.serviceMapper.Activate', text: r => `KeyError: '${r.pick(['Management IP', 'topology', 'evc'])}'` },
  { cls: 'scripts.networkservice.status_updater.StatusUpdater', text: () => "'NoneType' object is not subscriptable" },
  { cls: 'scripts.cpeActivator.cpeActivator.Activate', text: () => 'list index out of range' },
];

export interface ErrorMix {
  /** share of failures whose text is not in `system | category - sub: detail` form */
  uncategorizedShare: number;
  /** share of failures that are raw Python exceptions */
  exceptionShare: number;
}

export const DEFAULT_ERROR_MIX: ErrorMix = { uncategorizedShare: 0.15, exceptionShare: 0.15 };

export function sampleError(rng: Rng, mix: ErrorMix = DEFAULT_ERROR_MIX): ErrorSample {
  const roll = rng.next();
  if (roll < mix.exceptionShare) {
    const ex = rng.pick(EXCEPTIONS);
    const text = ex.text(rng);
    // Half of the exceptions were caught by CommonPlan's catch-all and categorised, half escaped raw.
    const caught = rng.chance(0.5);
    return {
      kind: 'exception',
      categorizedError: caught ? `MDSO | Process Error - Exception Raised: class: ${ex.cls} reason: Error: ${text}` : null,
      reasonText: `Error: ${text}`,
    };
  }
  if (roll < mix.exceptionShare + mix.uncategorizedShare) {
    const text = rng.pick(UNCATEGORIZED)(rng);
    return { kind: 'uncategorized', categorizedError: text, reasonText: text };
  }
  const text = rng.pick(CATEGORIZED)(rng);
  return { kind: 'categorized', categorizedError: text, reasonText: text };
}

export function logFileName(resourceId: string, operation: string, iso: string): string {
  return `plan-script-${resourceId}-${operation}-${iso}`;
}

/** What CommonPlan.exit_error writes to stderr. */
export function exitErrorLine(processClass: string, reasonText: string, logFile: string): string {
  return `Error in ${processClass}, ${reasonText}.  Please check file: ${logFile}`;
}

export type ReasonStyle = '2021' | '2023';

/** Blue Planet's wrapper around a failed plan's stderr. */
export function wrapReason(style: ReasonStyle, stderr: string, operation = 'activate'): string {
  return style === '2021'
    ? `Failed task:\n(1) ${operation}: Failed plan '${operation}'\n(exit code: 1):${stderr}`
    : `Failed task:(1) ${operation}: Failed remote script '${operation}'(exit code: 1): ${stderr}`;
}

/** A parent failing because a child resource failed: child's reason, child repr, parent's log file. */
export function childFailureReason(args: {
  style: ReasonStyle;
  parentClass: string;
  childId: string;
  childReason: string;
  childRepr: string;
  parentLogFile: string;
}): string {
  const stderr = `Error in ${args.parentClass}, Error: Resource ${args.childId} failed:\n\n${args.childReason}\n\n${args.childRepr}.  Please check file: ${args.parentLogFile}`;
  return wrapReason(args.style, stderr);
}
