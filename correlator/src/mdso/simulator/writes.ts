// The optional write side of the market API (simulator spec items 15 and 17): resource create,
// patch, delete and resync, and custom operations. Orchestration advances with the simulator clock:
// requested → activating → active or failed; operations requested → executing → successful or failed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorState } from './app.js';
import { productByType } from './catalog.js';
import { applyFailure } from './generator.js';
import { uuid } from './identifiers.js';
import type { SimResource } from './resource.js';

const MARKET = '/bpocore/market/api/v1';
const ACTIVATING_AFTER_MS = 1000;
const DONE_AFTER_MS = 3000;
const OPERATION_EXECUTING_AFTER_MS = 500;
const OPERATION_DONE_AFTER_MS = 1500;

export interface PendingActivation {
  activatingAtMs: number;
  doneAtMs: number;
  fail: boolean;
}

export interface SimOperation {
  id: string;
  resourceId: string;
  interface: string;
  title?: string;
  description?: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  state: 'requested' | 'executing' | 'successful' | 'failed';
  reason: string;
  progress: string[];
  executionGroup: 'lifecycle';
  createdAt: string;
  updatedAt: string;
  createdMs: number;
}

const failureInfo = (reason: string) => ({ failureInfo: { reason } });

function operationOutputs(op: SimOperation): { ok: true; outputs: Record<string, unknown> } | { ok: false; reason: string } {
  if (op.interface === 'setPortStatus') {
    const status = op.inputs['status'];
    if (status !== 'UP' && status !== 'DOWN') return { ok: false, reason: `setPortStatus: status must be UP or DOWN, got ${JSON.stringify(status)}` };
    return { ok: true, outputs: { status } };
  }
  if (op.interface === 'getPortStatus') return { ok: true, outputs: { status: 'UP', adminStatus: 'UP' } };
  return { ok: false, reason: `interface ${op.interface} is not supported by this resource` };
}

/** Moves every pending orchestration and operation to where the clock says it is. */
export function settle(state: SimulatorState): void {
  const now = state.now();
  for (const [id, p] of state.pending) {
    const r = state.store.get(id);
    if (!r) {
      state.pending.delete(id);
      continue;
    }
    if (now >= p.doneAtMs) {
      state.pending.delete(id);
      const product = productByType(r.resourceTypeId);
      if (p.fail && product) {
        const createdAt = r.createdAt;
        const { traceLog, child } = applyFailure(state.ctx, r, product, { endMs: p.doneAtMs }, state.errorMix);
        r.createdAt = createdAt;
        for (const extra of [child, traceLog]) {
          if (extra) {
            state.store.add(extra);
            state.store.link(r.id, extra.id);
          }
        }
      } else {
        r.orchState = 'active';
        r.updatedAt = new Date(p.doneAtMs).toISOString();
        r.revision = state.ctx.nextRevision();
      }
    } else if (now >= p.activatingAtMs && r.orchState === 'requested') {
      r.orchState = 'activating';
      r.updatedAt = new Date(p.activatingAtMs).toISOString();
    }
  }
  for (const ops of state.operations.values()) {
    for (const op of ops) {
      if (op.state === 'successful' || op.state === 'failed') continue;
      const age = now - op.createdMs;
      if (age >= OPERATION_DONE_AFTER_MS) {
        const result = operationOutputs(op);
        if (result.ok) {
          op.state = 'successful';
          op.outputs = result.outputs;
        } else {
          op.state = 'failed';
          op.reason = result.reason;
        }
        op.progress.push(`${op.state} at ${new Date(op.createdMs + OPERATION_DONE_AFTER_MS).toISOString()}`);
        op.updatedAt = new Date(op.createdMs + OPERATION_DONE_AFTER_MS).toISOString();
      } else if (age >= OPERATION_EXECUTING_AFTER_MS && op.state === 'requested') {
        op.state = 'executing';
        op.updatedAt = new Date(op.createdMs + OPERATION_EXECUTING_AFTER_MS).toISOString();
      }
    }
  }
}

function publicOperation(op: SimOperation): Omit<SimOperation, 'createdMs'> {
  const { createdMs: _createdMs, ...rest } = op;
  return rest;
}

type Auth = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function registerWriteRoutes(app: FastifyInstance, state: SimulatorState, authenticate: Auth): void {
  app.post(`${MARKET}/resources`, { preHandler: authenticate }, async (request, reply) => {
    const body = (request.body ?? {}) as { label?: unknown; resourceTypeId?: unknown; properties?: unknown; productId?: unknown; description?: unknown };
    if (typeof body.resourceTypeId !== 'string' || body.resourceTypeId === '') return reply.code(400).send(failureInfo('resourceTypeId is required'));
    if (typeof body.label !== 'string' || body.label === '') return reply.code(400).send(failureInfo('label is required'));
    if (body.properties !== undefined && (typeof body.properties !== 'object' || body.properties === null || Array.isArray(body.properties))) {
      return reply.code(400).send(failureInfo('properties must be an object'));
    }
    const now = state.now();
    const r: SimResource = state.ctx.resource(body.resourceTypeId, body.label, { ...((body.properties as Record<string, unknown>) ?? {}) }, now, now);
    if (typeof body.productId === 'string') r.productId = body.productId;
    if (typeof body.description === 'string') r.description = body.description;
    r.orchState = 'requested';
    state.store.add(r);
    state.pending.set(r.id, { activatingAtMs: now + ACTIVATING_AFTER_MS, doneAtMs: now + DONE_AFTER_MS, fail: state.ctx.rng.chance(state.opts.failureRate ?? 0.2) });
    return reply.code(201).send(r);
  });

  app.patch(`${MARKET}/resources/:id`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const r = state.store.get(id);
    if (!r) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    const body = (request.body ?? {}) as { label?: unknown; properties?: unknown; desiredOrchState?: unknown; description?: unknown };
    if (body.properties !== undefined) {
      if (typeof body.properties !== 'object' || body.properties === null || Array.isArray(body.properties)) return reply.code(400).send(failureInfo('properties must be an object'));
      Object.assign(r.properties, body.properties);
    }
    if (typeof body.label === 'string') r.label = body.label;
    if (typeof body.description === 'string') r.description = body.description;
    if (body.desiredOrchState === 'active' || body.desiredOrchState === 'terminated' || body.desiredOrchState === 'unspecified') r.desiredOrchState = body.desiredOrchState;
    r.updatedAt = new Date(state.now()).toISOString();
    r.revision = state.ctx.nextRevision();
    r.updateCount++;
    r.updateState = 'successful';
    return r;
  });

  app.delete(`${MARKET}/resources/:id`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!state.store.remove(id)) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    state.pending.delete(id);
    state.operations.delete(id);
    return reply.code(204).send();
  });

  app.post(`${MARKET}/resources/:id/resync`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!state.store.get(id)) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    return reply.code(202).send({});
  });

  app.post(`${MARKET}/resources/:id/operations`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!state.store.get(id)) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    const body = (request.body ?? {}) as { interface?: unknown; inputs?: unknown; title?: unknown; description?: unknown };
    if (typeof body.interface !== 'string' || body.interface === '') return reply.code(400).send(failureInfo('interface is required'));
    if (body.inputs !== undefined && (typeof body.inputs !== 'object' || body.inputs === null || Array.isArray(body.inputs))) return reply.code(400).send(failureInfo('inputs must be an object'));
    const now = state.now();
    const op: SimOperation = {
      id: uuid(state.ctx.rng),
      resourceId: id,
      interface: body.interface,
      inputs: (body.inputs as Record<string, unknown>) ?? {},
      outputs: {},
      state: 'requested',
      reason: '',
      progress: [],
      executionGroup: 'lifecycle',
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
      createdMs: now,
      ...(typeof body.title === 'string' ? { title: body.title } : {}),
      ...(typeof body.description === 'string' ? { description: body.description } : {}),
    };
    const list = state.operations.get(id);
    if (list) list.push(op);
    else state.operations.set(id, [op]);
    return reply.code(201).send(publicOperation(op));
  });

  app.get(`${MARKET}/resources/:id/operations`, { preHandler: authenticate }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!state.store.get(id)) return reply.code(404).send(failureInfo(`Resource ${id} not found`));
    const items = (state.operations.get(id) ?? []).map(publicOperation);
    return { items, total: items.length, offset: 0, limit: items.length };
  });

  app.get(`${MARKET}/resources/:id/operations/:opId`, { preHandler: authenticate }, async (request, reply) => {
    const { id, opId } = request.params as { id: string; opId: string };
    const op = state.operations.get(id)?.find(o => o.id === opId);
    if (!op) return reply.code(404).send(failureInfo(`Operation ${opId} of resource ${id} not found`));
    return publicOperation(op);
  });
}
