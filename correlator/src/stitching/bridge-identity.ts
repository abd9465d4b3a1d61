// What bridge spans are stored and exported under, and how one that comes back is known.

export const BRIDGE_SERVICE_NAME = 'correlation-station';
/** The instrumentation scope of bridge spans. */
export const BRIDGE_SCOPE_NAME = 'correlation-station.stitching';

/**
 * Whether spans under this resource and scope are bridge spans this correlator (or another
 * replica) exported: a collector in front of Tempo that also feeds the correlator hands them back.
 * The resource may have gained attributes on the way (a collector's resource processors), so it
 * is known by its service and scope names.
 */
export function isExportedBridgeScope(serviceName: string, scopeName: string): boolean {
  return scopeName === BRIDGE_SCOPE_NAME && serviceName === BRIDGE_SERVICE_NAME;
}
