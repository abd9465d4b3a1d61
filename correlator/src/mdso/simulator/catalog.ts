// The resource types the simulator serves (mdso-api.md §4, simulator spec item 18) and how each
// one is labelled and orchestrated.

export const TRACE_LOG_TYPE = 'tosca.resourceTypes.TraceLog';
export const NETWORK_FUNCTION_TYPE = 'tosca.resourceTypes.NetworkFunction';
export const CIRCUIT_DETAILS_TYPE = 'charter.resourceTypes.CircuitDetails';
export const CLI_MANAGER_TYPE = 'charter.resourceTypes.CLIManager';

export const NETWORK_FUNCTION_SUBTYPES = [
  'junipereq.resourceTypes.NetworkFunction',
  'radra.resourceTypes.NetworkFunction',
  'bpraadva.resourceTypes.NetworkFunction',
  'bpracisco.resourceTypes.NetworkFunction',
] as const;

export type LabelStyle = 'circuit' | 'cpe' | 'port' | 'fqdn';

export interface ProductType {
  resourceTypeId: string;
  shortName: string;
  labelStyle: LabelStyle;
  /** `<module>.<Class>` of the plan script that runs the activation */
  process: string;
  /** whether a TraceLog is written for it (ORCH_TRACE_PRODUCTS, §3.2) */
  hasTrace: boolean;
  /** sub-steps (resource_name, resource type, process) its orchestration goes through */
  steps: ReadonlyArray<{ resourceName: string; resourceType: string; process: string }>;
}

const NS_STEPS = [
  'network_service_pre_check',
  'service_device_validator',
  'pe_device_onboarder',
  'pe_device_config_validator',
  'pe_bw_profile_configurator',
  'pe_service_provisioner',
  'cpe_device_onboarder',
  'cpe_service_provisioner',
  'network_service_post_check',
].map(name => {
  const cls = name.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
  return { resourceName: name, resourceType: `charter.resourceTypes.${cls}`, process: `networkservice.${name}.${cls}` };
});

const MAPPER_STEPS = [
  { resourceName: 'circuit_details_collector', resourceType: CIRCUIT_DETAILS_TYPE, process: 'circuitDetailsCollector.CircuitDetailsCollector' },
  { resourceName: 'device_connectivity_check', resourceType: 'tosca.resourceTypes.ConnectivityCheck', process: 'deviceconnectivitycheck.DeviceConnectivityCheck' },
  { resourceName: 'config_comparator', resourceType: CLI_MANAGER_TYPE, process: 'CLIManager.CLIManager' },
];

function product(short: string, labelStyle: LabelStyle, hasTrace: boolean, steps = MAPPER_STEPS): ProductType {
  const module = short.charAt(0).toLowerCase() + short.slice(1);
  return {
    resourceTypeId: `charter.resourceTypes.${short}`,
    shortName: short,
    labelStyle,
    process: `${module}.${short}.Activate`,
    hasTrace,
    steps,
  };
}

export const PRODUCT_TYPES: readonly ProductType[] = [
  product('NetworkService', 'circuit', true, NS_STEPS),
  product('ServiceMapper', 'circuit', true),
  product('DisconnectMapper', 'circuit', true),
  product('NetworkServiceUpdate', 'circuit', true, NS_STEPS.slice(3, 7)),
  product('cpeActivator', 'cpe', true),
  product('PortActivation', 'port', false),
  product('ManagedServicesActivator', 'fqdn', false),
];

export function productByType(resourceTypeId: string): ProductType | undefined {
  return PRODUCT_TYPES.find(p => p.resourceTypeId === resourceTypeId);
}

/** `resourceTypeId` queries include subtypes (§2.2): the tosca base types stand for their vendor subtypes. */
export function isSubtypeOf(typeId: string, queried: string): boolean {
  if (typeId === queried) return true;
  if (queried === NETWORK_FUNCTION_TYPE) return (NETWORK_FUNCTION_SUBTYPES as readonly string[]).includes(typeId);
  if (queried === 'tosca.resourceTypes.Root') return true;
  return false;
}
