// The resource JSON of mdso-api.md §2.4, as the simulator stores and serves it.

export interface OrchTraceItem {
  timestamp: string;
  resource_type: string;
  resource_id: string;
  process: string;
  log_file: string;
  message: string;
  state: 'STARTED' | 'COMPLETED' | 'FAILED';
  elapsed_time: number;
  categorized_error?: string;
  resource_name?: string;
}

export interface SimResource {
  id: string;
  label: string;
  description?: string;
  resourceTypeId: string;
  productId: string;
  domainId: string;
  tenantId: string;
  shared: boolean;
  subDomainId: string;
  properties: Record<string, unknown>;
  providerResourceId?: string;
  discovered: boolean;
  differences: Array<{ path: string; value: unknown; op: string }>;
  desiredOrchState: 'active' | 'terminated' | 'unspecified';
  orchState: 'requested' | 'activating' | 'active' | 'failed' | 'terminated' | 'unknown' | 'inactive';
  reason: string;
  tags: Record<string, unknown>;
  providerData: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  revision: number;
  autoClean: boolean;
  updateState: 'unset' | 'successful';
  updateReason: string;
  updateCount: number;
}
