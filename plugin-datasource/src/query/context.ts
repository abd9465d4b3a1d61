import type { CorrelatorClient } from '../api/client';
import type { LinkTargets } from '../frames/links';

/** Everything a query runner needs besides its query: I/O, time range and link targets. */
export interface QueryContext {
  client: CorrelatorClient;
  /** Epoch milliseconds. */
  range: { from: number; to: number };
  /** The panel's interval, for time series. */
  intervalMs: number;
  targets: LinkTargets;
}
