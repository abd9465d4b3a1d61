// Issue fingerprints. The grouping version is part of every fingerprint and stored on every record,
// so changing the grouping (or the catalogue) starts new issues instead of silently regrouping old ones.
import { createHash } from 'node:crypto';

export const GROUPING_VERSION = 1;

export function fingerprintFor(defectCode: string | null, product: string, template: string): string {
  if (defectCode) return `g${GROUPING_VERSION}:defect:${defectCode}:${product}`;
  const digest = createHash('sha256').update(template).digest('hex').slice(0, 16);
  return `g${GROUPING_VERSION}:template:${digest}`;
}

/** Issue ids are derived from the fingerprint: the same failure class gets the same id everywhere. */
export function issueIdFor(fingerprint: string): string {
  return `iss_${createHash('sha256').update(fingerprint).digest('hex').slice(0, 16)}`;
}

export function errorIdFor(resourceId: string, occurredAtMs: number): string {
  return `err_${createHash('sha256').update(`${resourceId}\u0000${occurredAtMs}`).digest('hex').slice(0, 20)}`;
}
