// What the simulator holds, for asserting what the poller should have found.
import type { Database } from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';

export function failedIds(sim: FastifyInstance, types: readonly string[]): string[] {
  const ids: string[] = [];
  for (const t of types) for (const r of sim.mdsoSim.store.search({ exactTypeId: t, q: 'orchState:failed' })) ids.push(r.id);
  return ids.sort();
}

export function recordedIds(db: Database): string[] {
  return (db.prepare('SELECT resource_id FROM mdso_errors ORDER BY resource_id').all() as Array<{ resource_id: string }>).map(r => r.resource_id);
}

export function ingestedRootResourceIds(batches: ReadonlyArray<{ resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; attributes: Array<{ key: string; value: { stringValue?: string } }> }> }> }> }>): string[] {
  const ids: string[] = [];
  for (const b of batches)
    for (const rs of b.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans) if (s.name.startsWith('mdso.product.')) ids.push(s.attributes.find(a => a.key === 'resource_id')?.value.stringValue ?? '');
  return ids.sort();
}
