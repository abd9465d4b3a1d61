// Deterministic test data: resources of every product, failures with reasons and TraceLogs in the
// documented formats. Everything random comes from one seeded Rng, so a seed reproduces a dataset.
import {
  NETWORK_FUNCTION_SUBTYPES,
  PRODUCT_TYPES,
  TRACE_LOG_TYPE,
  type ProductType,
} from './catalog.js';
import {
  childFailureReason,
  exitErrorLine,
  logFileName,
  sampleError,
  wrapReason,
  DEFAULT_ERROR_MIX,
  type ErrorMix,
  type ReasonStyle,
} from './error-library.js';
import { circuitId, fqdn, ipv4, port, tid, uuid } from './identifiers.js';
import type { OrchTraceItem, SimResource } from './resource.js';
import { createRng, type Rng } from './rng.js';

export interface GeneratorOptions {
  seed: number;
  resourcesPerProduct: number;
  /** share of product resources that end up failed, 0..1 */
  failureRate: number;
  /** generated resources are created within `spanHours` before this instant */
  anchorMs: number;
  spanHours?: number;
  errorMix?: ErrorMix;
  /** resource type ids to generate; all PRODUCT_TYPES when absent */
  products?: readonly string[];
  networkFunctions?: number;
}

export interface Dataset {
  resources: SimResource[];
  /** parent id → child ids (MadeOf: TraceLogs and failed children are dependencies) */
  dependencies: Array<[string, string]>;
}

/** Shared identity of one simulated MDSO: tenant, domains, product ids, revision counter. */
export class SimContext {
  readonly tenantId: string;
  readonly domainId: string;
  readonly subDomainId: string;
  readonly productIds = new Map<string, string>();
  private revision = 13194144224898;

  constructor(readonly rng: Rng) {
    this.tenantId = uuid(rng);
    this.domainId = uuid(rng);
    this.subDomainId = uuid(rng);
  }

  productId(typeId: string): string {
    let id = this.productIds.get(typeId);
    if (!id) {
      id = uuid(this.rng);
      this.productIds.set(typeId, id);
    }
    return id;
  }

  nextRevision(): number {
    this.revision += this.rng.int(1, 5000);
    return this.revision;
  }

  resource(typeId: string, label: string, properties: Record<string, unknown>, createdMs: number, updatedMs: number): SimResource {
    const id = uuid(this.rng);
    return {
      id,
      label,
      resourceTypeId: typeId,
      productId: this.productId(typeId),
      domainId: this.domainId,
      tenantId: this.tenantId,
      shared: false,
      subDomainId: this.subDomainId,
      properties,
      providerResourceId: `bpo_${this.subDomainId}_${id}`,
      discovered: false,
      differences: [],
      desiredOrchState: 'active',
      orchState: 'active',
      reason: '',
      tags: {},
      providerData: { templateResources: {} },
      createdAt: new Date(createdMs).toISOString(),
      updatedAt: new Date(updatedMs).toISOString(),
      revision: this.nextRevision(),
      autoClean: false,
      updateState: 'unset',
      updateReason: '',
      updateCount: 0,
    };
  }
}

function labelAndProperties(rng: Rng, product: ProductType): { label: string; properties: Record<string, unknown> } {
  const cid = circuitId(rng);
  const device = tid(rng);
  switch (product.labelStyle) {
    case 'circuit': {
      const properties: Record<string, unknown> = { circuit_id: cid };
      if (product.shortName === 'NetworkService') {
        Object.assign(properties, { stage: 'PRODUCTION', state: 'READY_FOR_SERVICE', service_type: rng.pick(['FIA', 'ELINE', 'ELAN']), network_service_status: 'Active', network_service_error: '' });
      } else if (product.shortName === 'ServiceMapper') {
        Object.assign(properties, { circuit_details_id: uuid(rng), order_type: rng.pick(['NEW', 'CHANGE']), device_properties: { [device]: { 'Management IP': ipv4(rng), MediaType: 'FIBER' } } });
      } else if (product.shortName === 'DisconnectMapper') {
        Object.assign(properties, { a_side_disconnect: rng.pick(['FULL', 'PARTIAL']), a_side_endpoint: device });
      } else {
        Object.assign(properties, { operation: 'bandwidth', bandwidth: `${rng.pick([100, 500, 1000])}M`, network_service_status: 'Active' });
      }
      return { label: cid, properties };
    }
    case 'cpe':
      return { label: `${device}.cpe_activator`, properties: { circuit_id: cid, site: rng.pick(['A', 'Z']), port: port(rng), cpe_activation: `10. Validating CPE Firmware for ${device}` } };
    case 'port': {
      const p = port(rng);
      return { label: `${device.toLowerCase()}_${p}`, properties: { deviceName: device, portname: p, vendor: rng.pick(['JUNIPER', 'CISCO', 'ADVA']), status: 'Ready to configure', terminationTime: 30 } };
    }
    case 'fqdn': {
      const name = fqdn(rng, device);
      return { label: name, properties: { fqdn: name, vendor: 'Cisco', model: 'C1111-8P ISR', ipAddress: ipv4(rng), msa_activation: 'complete' } };
    }
  }
}

function hhmmss(epochSec: number): string {
  return new Date(epochSec * 1000).toISOString().slice(11, 19);
}

export interface FailureArtifacts {
  traceLog: SimResource | null;
  child: SimResource | null;
}

/**
 * Turns `resource` into a failed one at `failedAtMs`: reason in the 2021/2023 wrapper, maybe caused by
 * a failed child, a TraceLog with STARTED…COMPLETED…FAILED entries when the product writes one.
 * `timing` anchors the run at its start (generated history) or its end (a failure injected "now").
 */
export function applyFailure(
  ctx: SimContext,
  resource: SimResource,
  product: ProductType,
  timing: { startMs: number } | { endMs: number },
  mix: ErrorMix = DEFAULT_ERROR_MIX,
): FailureArtifacts {
  const rng = ctx.rng;
  const sample = sampleError(rng, mix);
  const style: ReasonStyle = rng.chance(0.5) ? '2021' : '2023';
  const failIndex = rng.int(0, product.steps.length - 1);
  const failingStep = product.steps[failIndex]!;
  // Draw the step durations first so the run can be anchored at its end (runtime failures end "now").
  const gaps: Array<[number, number]> = [];
  for (let i = 0; i <= failIndex; i++) gaps.push([rng.int(0, 3), rng.int(1, 40)]);
  const totalSec = gaps.reduce((a, [g, d]) => a + g + d, 0) + 1;
  const startSec = 'startMs' in timing ? Math.floor(timing.startMs / 1000) : Math.floor(timing.endMs / 1000) - totalSec;
  const startMs = startSec * 1000;
  if ('endMs' in timing) {
    resource.createdAt = new Date(startMs).toISOString();
  }
  const parentLog = logFileName(resource.id, 'activate', resource.createdAt);

  let child: SimResource | null = null;
  if (product.steps.length > 0 && rng.chance(0.3)) {
    // The failure happened in a child resource; the parent's reason embeds it (§3.1 child failure).
    child = ctx.resource(failingStep.resourceType, `${resource.label}.${failingStep.resourceName}`, { resource_name: failingStep.resourceName }, startMs, startMs);
  }

  let elapsed = 0;
  const entries: OrchTraceItem[] = [];
  const entry = (e: Omit<OrchTraceItem, 'timestamp' | 'elapsed_time'>): void => {
    entries.push({ timestamp: hhmmss(startSec + elapsed), elapsed_time: elapsed, ...e });
  };
  entry({ resource_type: resource.resourceTypeId, resource_id: resource.id, process: product.process, log_file: parentLog, message: 'STARTED PROCESSING', state: 'STARTED' });
  for (let i = 0; i <= failIndex; i++) {
    const step = product.steps[i]!;
    const stepId = i === failIndex && child ? child.id : uuid(rng);
    const [gap, duration] = gaps[i]!;
    elapsed += gap;
    const stepLog = logFileName(stepId, 'activate', new Date((startSec + elapsed) * 1000).toISOString());
    entry({ resource_type: step.resourceType, resource_id: stepId, process: step.process, log_file: stepLog, message: 'STARTED PROCESSING', state: 'STARTED', resource_name: step.resourceName });
    elapsed += duration;
    if (i < failIndex) {
      entry({ resource_type: step.resourceType, resource_id: stepId, process: step.process, log_file: stepLog, message: 'Completed successfully', state: 'COMPLETED', resource_name: step.resourceName });
    } else {
      const failed: Omit<OrchTraceItem, 'timestamp' | 'elapsed_time'> = {
        resource_type: step.resourceType,
        resource_id: stepId,
        process: step.process,
        log_file: stepLog,
        message: exitErrorLine(step.process, sample.reasonText, stepLog),
        state: 'FAILED',
        resource_name: step.resourceName,
      };
      if (sample.categorizedError !== null) failed.categorized_error = sample.categorizedError;
      entry(failed);
    }
  }
  elapsed += 1;
  entry({ resource_type: resource.resourceTypeId, resource_id: resource.id, process: product.process, log_file: parentLog, message: exitErrorLine(product.process, sample.reasonText, parentLog), state: 'FAILED' });

  const failedAtMs = 'endMs' in timing ? timing.endMs : startSec * 1000 + elapsed * 1000 + rng.int(0, 999);
  const parentClass = `scripts.${product.process}`;
  if (child) {
    const childLog = logFileName(child.id, 'activate', child.createdAt);
    child.orchState = 'failed';
    child.reason = wrapReason(style, exitErrorLine(`scripts.${failingStep.process}`, sample.reasonText, childLog));
    child.updatedAt = new Date(failedAtMs - 500).toISOString();
    const childRepr = `{'autoClean': False, 'id': '${child.id}', 'label': '${child.label}', 'orchState': 'failed', 'resourceTypeId': '${child.resourceTypeId}'}`;
    resource.reason = childFailureReason({ style, parentClass, childId: child.id, childReason: child.reason, childRepr, parentLogFile: parentLog });
  } else {
    resource.reason = wrapReason(style, exitErrorLine(parentClass, sample.reasonText, parentLog));
  }
  resource.orchState = 'failed';
  resource.updatedAt = new Date(failedAtMs).toISOString();
  resource.revision = ctx.nextRevision();

  const shortError = (sample.categorizedError ?? sample.reasonText).slice(0, 150);
  if (product.shortName === 'NetworkService') {
    Object.assign(resource.properties, { state: 'FAILED', network_service_error: shortError, network_service_status: `${failingStep.resourceName.replace(/_/g, ' ')} failed` });
  } else if (product.shortName === 'cpeActivator') {
    resource.properties['cpe_activation_error'] = shortError;
  } else if (product.shortName === 'ManagedServicesActivator') {
    resource.properties['msa_activation_error'] = shortError;
  }

  let traceLog: SimResource | null = null;
  if (product.hasTrace) {
    const cid = typeof resource.properties['circuit_id'] === 'string' ? resource.properties['circuit_id'] : resource.label;
    const properties: Record<string, unknown> = {
      trace_id: rng.hex(32),
      operation: 'NETWORK_SERVICE_ACTIVATION',
      start_time_sec: startSec,
      user_name: 'sense_user',
      circuit_name: cid,
      orchestration_trace: entries,
    };
    // Older TraceLogs lack origination_id: only the label search finds them (the poller's fallback).
    if (rng.chance(0.9)) properties['origination_id'] = resource.id;
    traceLog = ctx.resource(TRACE_LOG_TYPE, `${resource.label}.orch_trace`, properties, startMs, failedAtMs);
    delete traceLog.providerResourceId;
  }
  return { traceLog, child };
}

/** Orchestration that is still going or went fine. */
function healthyState(rng: Rng): SimResource['orchState'] {
  const r = rng.next();
  if (r < 0.88) return 'active';
  if (r < 0.93) return 'activating';
  if (r < 0.97) return 'terminated';
  return 'requested';
}

export function createProductResource(ctx: SimContext, product: ProductType, createdMs: number): SimResource {
  const { label, properties } = labelAndProperties(ctx.rng, product);
  const resource = ctx.resource(product.resourceTypeId, label, properties, createdMs, createdMs + ctx.rng.int(200, 90_000));
  if (product.labelStyle === 'fqdn') resource.description = 'FQDN';
  return resource;
}

export function generateDataset(ctx: SimContext, opts: GeneratorOptions): Dataset {
  const rng = ctx.rng;
  const spanMs = (opts.spanHours ?? 24) * 3600_000;
  const resources: SimResource[] = [];
  const dependencies: Array<[string, string]> = [];
  const products = opts.products ? PRODUCT_TYPES.filter(p => opts.products!.includes(p.resourceTypeId)) : PRODUCT_TYPES;
  for (let i = 0; i < (opts.networkFunctions ?? 20); i++) {
    const device = tid(rng);
    const created = opts.anchorMs - spanMs - rng.int(3600_000, 30 * 86400_000);
    const nf = ctx.resource(rng.pick(NETWORK_FUNCTION_SUBTYPES), device, { ipAddress: fqdn(rng, device), communicationState: rng.pick(['AVAILABLE', 'AVAILABLE', 'UNAVAILABLE']), typeGroup: '/typeGroups/Juniper', swVersion: '20.4R3', server_password: `pw-${rng.hex(12)}` }, created, created);
    resources.push(nf);
  }
  for (const product of products) {
    for (let i = 0; i < opts.resourcesPerProduct; i++) {
      // spread creation evenly over the span, with jitter, so offsets correlate with time
      const created = opts.anchorMs - spanMs + Math.floor(((i + rng.next()) / Math.max(1, opts.resourcesPerProduct)) * (spanMs - 600_000));
      const resource = createProductResource(ctx, product, created);
      if (rng.chance(opts.failureRate)) {
        const { traceLog, child } = applyFailure(ctx, resource, product, { startMs: created }, opts.errorMix);
        if (child) {
          resources.push(child);
          dependencies.push([resource.id, child.id]);
        }
        if (traceLog) {
          resources.push(traceLog);
          dependencies.push([resource.id, traceLog.id]);
        }
      } else {
        resource.orchState = healthyState(rng);
        if (resource.orchState === 'terminated') resource.desiredOrchState = 'terminated';
      }
      resources.push(resource);
    }
  }
  resources.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  return { resources, dependencies };
}

export function createContext(seed: number): SimContext {
  return new SimContext(createRng(seed));
}
