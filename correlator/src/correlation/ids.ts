import { createHash } from 'node:crypto';

/** Deterministic ids: replaying the same data must produce the same correlations and bridges. */
export function bridgeSpanId(parentSpanId: string, childSpanId: string): string {
  return createHash('sha256').update(`bridge:${parentSpanId}:${childSpanId}`).digest('hex').slice(0, 16);
}

export function correlationId(method: string, value: string, epochStartMs: number): string {
  return createHash('sha256').update(`corr:${method}:${value}:${Math.floor(epochStartMs)}`).digest('hex').slice(0, 24);
}
