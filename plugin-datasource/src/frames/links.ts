import type { DataLink } from '@grafana/data';
import { CIRCUIT_EXPLORER_PATH } from '../constants';

/** A datasource a link can point to. */
export interface LinkedDatasource {
  uid: string;
  name: string;
}

/** Where links may lead; Tempo and Loki are optional and their links are left out when not configured. */
export interface LinkTargets {
  self: LinkedDatasource;
  tempo?: LinkedDatasource;
  loki?: LinkedDatasource;
}

/** The raw value of the field the link sits on (Grafana interpolates it per row). */
export const VALUE = '${__value.raw}';

export function tempoTraceLink(tempo: LinkedDatasource, traceIdExpr = VALUE): DataLink {
  return {
    title: 'Open trace in Tempo',
    url: '',
    internal: {
      datasourceUid: tempo.uid,
      datasourceName: tempo.name,
      query: { refId: 'A', queryType: 'traceql', query: traceIdExpr },
    },
  };
}

/** Opens the stitched trace of a circuit (or one trace) with this datasource. */
export function stitchedTraceLink(self: LinkedDatasource, title: string, queryExpr = VALUE): DataLink {
  return {
    title,
    url: '',
    internal: {
      datasourceUid: self.uid,
      datasourceName: self.name,
      query: { refId: 'A', queryType: 'circuitTrace', query: queryExpr },
    },
  };
}

export function circuitExplorerLink(circuitIdExpr = VALUE): DataLink {
  return {
    title: 'Open in Circuit Explorer',
    url: `${CIRCUIT_EXPLORER_PATH}/${circuitIdExpr}`,
  };
}

/** Loki lines of a trace or circuit, found through structured metadata (never labels; see grafana-plugins.md). */
export function lokiLink(loki: LinkedDatasource, key: 'trace_id' | 'circuit_id', valueExpr = VALUE): DataLink {
  return {
    title: key === 'trace_id' ? 'Logs of this trace in Loki' : 'Logs of this circuit in Loki',
    url: '',
    internal: {
      datasourceUid: loki.uid,
      datasourceName: loki.name,
      query: { refId: 'A', expr: `{service_name=~".+"} | ${key}="${valueExpr}"` },
    },
  };
}

/** Links on a circuit-id column: the app page, the stitched trace, and Loki when configured. */
export function circuitLinks(targets: LinkTargets): DataLink[] {
  const links = [circuitExplorerLink(), stitchedTraceLink(targets.self, 'Stitched circuit trace')];
  if (targets.loki) {
    links.push(lokiLink(targets.loki, 'circuit_id'));
  }
  return links;
}

/** Links on a trace-id column: this datasource's view with links and bridges, and Tempo when configured. */
export function traceLinks(targets: LinkTargets): DataLink[] {
  const links = [stitchedTraceLink(targets.self, 'Open trace with correlations')];
  if (targets.tempo) {
    links.push(tempoTraceLink(targets.tempo));
  }
  if (targets.loki) {
    links.push(lokiLink(targets.loki, 'trace_id'));
  }
  return links;
}
