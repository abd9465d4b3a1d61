import { Type, type Static } from 'typebox';

// MDSO poller: status and on-demand collection.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const IsoTime = Type.String({ format: 'date-time', description: 'RFC 3339 UTC timestamp' });

export const MdsoPollOutcome = Type.Union(
  [Type.Literal('ok'), Type.Literal('partial'), Type.Literal('failed'), Type.Literal('aborted')],
  { description: 'partial: some products scanned, others stopped on an error (they resume from their last good page)' },
);
export type MdsoPollOutcome = Static<typeof MdsoPollOutcome>;

export const MdsoProductPollResult = Type.Object({
  resourceTypeId: Type.String(),
  product: Type.String({ description: 'short product name, e.g. ServiceMapper' }),
  completed: Type.Boolean({ description: 'the scan reached the end of the list' }),
  resourcesSeen: Type.Integer({ minimum: 0 }),
  resourcesChanged: Type.Integer({ minimum: 0, description: 'seen resources whose updatedAt is within the window' }),
  failuresFound: Type.Integer({ minimum: 0, description: 'new failed resources handed to the analysis' }),
  failuresRecorded: Type.Integer({ minimum: 0, description: 'of those, the ones the analysis had not recorded before' }),
  duplicatesSkipped: Type.Integer({ minimum: 0, description: 'items MDSO sent again on a later page' }),
  shortPages: Type.Integer({ minimum: 0, description: 'pages shorter than asked for although more items remained' }),
  errorMessage: Nullable(Type.String()),
});
export type MdsoProductPollResult = Static<typeof MdsoProductPollResult>;

export const MdsoPollSummary = Type.Object({
  trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual')]),
  startedAt: IsoTime,
  endedAt: IsoTime,
  durationSeconds: Type.Number({ minimum: 0 }),
  outcome: MdsoPollOutcome,
  resourcesSeen: Type.Integer({ minimum: 0 }),
  failuresFound: Type.Integer({ minimum: 0 }),
  failuresRecorded: Type.Integer({ minimum: 0 }),
  apiErrors: Type.Integer({ minimum: 0, description: 'failed MDSO requests during the poll, retried ones included' }),
  duplicatesSkipped: Type.Integer({ minimum: 0 }),
  shortPages: Type.Integer({ minimum: 0 }),
  errorMessage: Nullable(Type.String()),
});
export type MdsoPollSummary = Static<typeof MdsoPollSummary>;

/** POST /api/mdso/collect: what the immediate poll did. */
export const MdsoCollectResponse = Type.Object({
  poll: MdsoPollSummary,
  products: Type.Array(MdsoProductPollResult),
});
export type MdsoCollectResponse = Static<typeof MdsoCollectResponse>;

export const MdsoProductCursor = Type.Object({
  resourceTypeId: Type.String(),
  product: Type.String(),
  watermark: Nullable(IsoTime),
  lastCompletedScanStartedAt: Nullable(IsoTime),
  resumeOffset: Nullable(Type.Integer({ minimum: 0, description: 'an unfinished scan continues from here' })),
  lastPoll: Type.Object({
    resourcesSeen: Type.Integer({ minimum: 0 }),
    resourcesChanged: Type.Integer({ minimum: 0 }),
    failuresFound: Type.Integer({ minimum: 0 }),
    failuresRecorded: Type.Integer({ minimum: 0 }),
  }),
  totals: Type.Object({
    resourcesSeen: Type.Integer({ minimum: 0 }),
    failuresFound: Type.Integer({ minimum: 0 }),
  }),
});
export type MdsoProductCursor = Static<typeof MdsoProductCursor>;

/** GET /api/mdso/status */
export const MdsoStatusResponse = Type.Object({
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String({ description: 'why polling is off' })),
  url: Nullable(Type.String({ description: 'MDSO base URL (no credentials)' })),
  authVariant: Type.Union([Type.Literal('oauth2'), Type.Literal('legacy')]),
  pollIntervalSeconds: Type.Integer(),
  running: Type.Boolean({ description: 'a poll is in progress' }),
  runningSince: Nullable(IsoTime),
  nextPollAt: Nullable(IsoTime),
  lagSeconds: Nullable(Type.Number({ minimum: 0, description: 'seconds since the start of the oldest last completed product scan' })),
  lastPoll: Nullable(
    // The last poll's summary, read from the store while it may still be running: no end yet, and
    // trigger and outcome as recorded (outcome "running" until it ends).
    Type.Object({
      ...MdsoPollSummary.properties,
      trigger: Type.String(),
      endedAt: Nullable(IsoTime),
      durationSeconds: Nullable(Type.Number({ minimum: 0 })),
      outcome: Type.String({ description: 'ok, partial, failed, aborted (or running)' }),
    }),
  ),
  lastError: Nullable(Type.Object({ message: Type.String(), at: IsoTime }, { description: 'the last error that stopped a product scan' })),
  lastApiError: Nullable(Type.Object({ message: Type.String(), at: IsoTime }, { description: 'the last failed MDSO request, even one a retry recovered from' })),
  authRejected: Nullable(
    Type.Object(
      {
        message: Type.String(),
        since: IsoTime,
        polls: Type.Integer({ minimum: 1, description: 'consecutive polls whose login MDSO refused' }),
        retryDelaySeconds: Type.Number({ minimum: 0, description: 'the wait before the next scheduled poll' }),
      },
      {
        description:
          'MDSO refused the credentials (401/403 on the token request): each poll stops after one login attempt, and scheduled polls back off (the interval doubles per refused poll, up to 30 minutes) until a login succeeds. Null otherwise.',
      },
    ),
  ),
  products: Type.Array(MdsoProductCursor),
});
export type MdsoStatusResponse = Static<typeof MdsoStatusResponse>;
