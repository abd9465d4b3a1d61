// The simulator's in-memory market: resources in ascending createdAt order (spec item 9), indexed by
// id and type, plus MadeOf dependencies.
import { isSubtypeOf } from './catalog.js';
import type { Dataset } from './generator.js';
import { compilePartial, matchesExact, matchesPartial, parseClauses } from './query.js';
import type { SimResource } from './resource.js';

export interface ResourceFilter {
  resourceTypeId?: string;
  exactTypeId?: string;
  q?: string;
  p?: string;
  domainId?: string;
  providerResourceId?: string;
}

export class ResourceStore {
  private readonly byId = new Map<string, SimResource>();
  private readonly byType = new Map<string, SimResource[]>();
  private readonly ordered: SimResource[] = [];
  private readonly deps = new Map<string, string[]>();
  private readonly dependents = new Map<string, string[]>();

  constructor(dataset?: Dataset) {
    if (dataset) {
      for (const r of dataset.resources) this.add(r);
      for (const [parent, child] of dataset.dependencies) this.link(parent, child);
    }
  }

  get size(): number {
    return this.ordered.length;
  }

  /** Keeps ascending createdAt order; new resources usually belong at the end. */
  add(resource: SimResource): void {
    this.byId.set(resource.id, resource);
    insertOrdered(this.ordered, resource);
    let list = this.byType.get(resource.resourceTypeId);
    if (!list) this.byType.set(resource.resourceTypeId, (list = []));
    insertOrdered(list, resource);
  }

  /** Removes a resource and its relationships; false when it does not exist. */
  remove(id: string): boolean {
    const r = this.byId.get(id);
    if (!r) return false;
    this.byId.delete(id);
    const drop = (list: SimResource[] | undefined) => {
      const i = list?.indexOf(r) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    };
    drop(this.ordered);
    drop(this.byType.get(r.resourceTypeId));
    for (const [from, to] of [
      [this.deps, this.dependents],
      [this.dependents, this.deps],
    ] as const) {
      for (const other of from.get(id) ?? []) {
        const back = to.get(other);
        if (back) to.set(other, back.filter(x => x !== id));
      }
      from.delete(id);
    }
    return true;
  }

  link(parentId: string, childId: string): void {
    const push = (m: Map<string, string[]>, k: string, v: string) => {
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    };
    push(this.deps, parentId, childId);
    push(this.dependents, childId, parentId);
  }

  get(id: string): SimResource | undefined {
    return this.byId.get(id);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  private candidates(filter: ResourceFilter): SimResource[] {
    if (filter.exactTypeId !== undefined) {
      const list = this.byType.get(filter.exactTypeId) ?? [];
      return filter.resourceTypeId === undefined ? list : list.filter(r => isSubtypeOf(r.resourceTypeId, filter.resourceTypeId!));
    }
    if (filter.resourceTypeId !== undefined) {
      const types = [...this.byType.keys()].filter(t => isSubtypeOf(t, filter.resourceTypeId!));
      if (types.length === 1) return this.byType.get(types[0]!)!;
      const merged = types.flatMap(t => this.byType.get(t)!);
      return merged.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    }
    return this.ordered;
  }

  /** Throws QueryError on a malformed q/p. */
  search(filter: ResourceFilter): SimResource[] {
    const q = parseClauses(filter.q, 'q');
    const p = compilePartial(parseClauses(filter.p, 'p'));
    return this.candidates(filter).filter(
      r =>
        (filter.domainId === undefined || r.domainId === filter.domainId) &&
        (filter.providerResourceId === undefined || r.providerResourceId === filter.providerResourceId) &&
        (q.length === 0 || matchesExact(r, q)) &&
        (p.length === 0 || matchesPartial(r, p)),
    );
  }

  dependenciesOf(id: string, recursive: boolean): SimResource[] {
    return this.walk(this.deps, id, recursive);
  }

  dependentsOf(id: string, recursive: boolean): SimResource[] {
    return this.walk(this.dependents, id, recursive);
  }

  private walk(graph: Map<string, string[]>, id: string, recursive: boolean): SimResource[] {
    const out: SimResource[] = [];
    const seen = new Set<string>([id]);
    const queue = [...(graph.get(id) ?? [])];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      const r = this.byId.get(next);
      if (r) out.push(r);
      if (recursive) queue.push(...(graph.get(next) ?? []));
    }
    return out;
  }
}

function insertOrdered(list: SimResource[], r: SimResource): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.createdAt > r.createdAt) i--;
  list.splice(i, 0, r);
}
