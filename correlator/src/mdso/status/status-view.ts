// The poller's state as the status and collect routes report it. Pure mapping, times as ISO strings.
import type { MdsoCollectResponse, MdsoStatusResponse } from '@correlation-station/api-schema';
import type { MdsoConfig } from '../../config/config.js';
import type { MdsoPoller, PollResult } from '../poller/poller.js';
import { shortProductName } from '../poller/failure-input.js';
import { withoutCredentials } from '../client/safe-url.js';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function statusView(config: Readonly<MdsoConfig>, poller: MdsoPoller | null, disabledReason: string | null): MdsoStatusResponse {
  const base = {
    enabled: poller !== null,
    disabledReason: poller ? null : disabledReason,
    url: withoutCredentials(config.url),
    authVariant: config.authVariant,
    pollIntervalSeconds: config.pollIntervalSeconds,
  };
  if (!poller) {
    return { ...base, running: false, runningSince: null, nextPollAt: null, lagSeconds: null, lastPoll: null, lastError: null, lastApiError: null, authRejected: null, products: [] };
  }
  const run = poller.store.lastRun();
  const lastError = poller.lastErrorInfo;
  const lastApiError = poller.lastApiErrorInfo;
  const auth = poller.authRejectionInfo;
  return {
    ...base,
    running: poller.isRunning,
    runningSince: iso(poller.runningSinceMs),
    nextPollAt: iso(poller.nextPollAtMs),
    lagSeconds: poller.lagSeconds(),
    lastPoll: run
      ? {
          trigger: run.trigger,
          startedAt: iso(run.startedMs)!,
          endedAt: iso(run.endedMs),
          durationSeconds: run.endedMs === null ? null : (run.endedMs - run.startedMs) / 1000,
          outcome: run.outcome,
          resourcesSeen: run.resourcesSeen,
          failuresFound: run.failuresFound,
          failuresRecorded: run.failuresRecorded,
          apiErrors: run.apiErrors,
          duplicatesSkipped: run.duplicatesSkipped,
          shortPages: run.shortPages,
          errorMessage: run.errorMessage,
        }
      : null,
    lastError: lastError ? { message: lastError.message, at: iso(lastError.atMs)! } : null,
    lastApiError: lastApiError ? { message: lastApiError.message, at: iso(lastApiError.atMs)! } : null,
    authRejected: auth ? { message: auth.message, since: iso(auth.sinceMs)!, polls: auth.polls, retryDelaySeconds: auth.retryDelayMs / 1000 } : null,
    products: poller.cursors().map(c => ({
      resourceTypeId: c.resourceTypeId,
      product: shortProductName(c.resourceTypeId),
      watermark: iso(c.watermarkMs),
      lastCompletedScanStartedAt: iso(c.lastCompleteScanStartedMs),
      resumeOffset: c.scan ? c.scan.offset : null,
      lastPoll: { resourcesSeen: c.lastSeen, resourcesChanged: c.lastChanged, failuresFound: c.lastFailures, failuresRecorded: c.lastRecorded },
      totals: { resourcesSeen: c.totalSeen, failuresFound: c.totalFailures },
    })),
  };
}

export function collectView(result: PollResult): MdsoCollectResponse {
  return {
    poll: {
      trigger: result.trigger,
      startedAt: iso(result.startedMs)!,
      endedAt: iso(result.endedMs)!,
      durationSeconds: (result.endedMs - result.startedMs) / 1000,
      outcome: result.outcome,
      resourcesSeen: result.resourcesSeen,
      failuresFound: result.failuresFound,
      failuresRecorded: result.failuresRecorded,
      apiErrors: result.apiErrors,
      duplicatesSkipped: sum(result.products.map(p => p.duplicatesSkipped)),
      shortPages: sum(result.products.map(p => p.shortPages)),
      errorMessage: result.errorMessage,
    },
    products: result.products,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
