import { Type, type Static } from 'typebox';

export const CORRELATOR_SERVICE_NAME = 'correlation-station-correlator' as const;
/** Bumped on any breaking change of the query API; the datasource checks it in "Save & test". */
export const API_VERSION = 1;

export const HealthResponse = Type.Object({
  status: Type.Literal('healthy'),
  uptimeSeconds: Type.Number(),
});
export type HealthResponse = Static<typeof HealthResponse>;

export const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })),
});
export type ReadyResponse = Static<typeof ReadyResponse>;

/** What a client needs to know it talks to the right service at a compatible version. */
export const InfoResponse = Type.Object({
  service: Type.Literal(CORRELATOR_SERVICE_NAME),
  version: Type.String(),
  apiVersion: Type.Integer(),
  authMode: Type.Union([Type.Literal('none'), Type.Literal('basic'), Type.Literal('bearer')]),
  correlationWindowSeconds: Type.Number(),
  features: Type.Object({
    mdso: Type.Boolean(),
    tempoExport: Type.Boolean(),
  }),
});
export type InfoResponse = Static<typeof InfoResponse>;
