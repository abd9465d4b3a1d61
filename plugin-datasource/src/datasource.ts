import {
  CoreApp,
  DataSourceApi,
  rangeUtil,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type ScopedVars,
  type TimeRange,
} from '@grafana/data';
import {
  getBackendSrv,
  getDataSourceSrv,
  getTemplateSrv,
  type DataSourceSrv,
  type TemplateSrv,
} from '@grafana/runtime';
import { catchError, defer, map, merge, of, type Observable } from 'rxjs';
import { CorrelatorClient, type FetchSrv } from './api/client';
import { describeError } from './api/errors';
import { createAnnotationSupport } from './annotations/annotationSupport';
import { DEFAULT_LOOKBACK } from './constants';
import type { LinkTargets, LinkedDatasource } from './frames/links';
import { outcomeFromError, outcomeFromInfo, type TestOutcome } from './health/testOutcome';
import type { QueryContext } from './query/context';
import { defaultQuery, normalizeQuery } from './query/defaults';
import { interpolateQuery } from './query/interpolate';
import { runQuery } from './query/runners';
import type { CorrelatorJsonData, CorrelatorQuery, CorrelatorVariableQuery, QueryType } from './types';
import { CorrelatorVariableSupport } from './variables/CorrelatorVariableSupport';
import { variableValues } from './variables/variableValues';

/**
 * The Correlation Station datasource. It only orchestrates: queries are grouped by type and each is
 * run by its runner (query/runners.ts), which calls the correlator and builds frames (frames/*.ts).
 * Grafana singletons are default parameters so tests can pass fakes.
 */
export class CorrelatorDataSource extends DataSourceApi<CorrelatorQuery, CorrelatorJsonData> {
  readonly client: CorrelatorClient;
  private readonly jsonData: CorrelatorJsonData;

  constructor(
    instanceSettings: DataSourceInstanceSettings<CorrelatorJsonData>,
    backendSrv: FetchSrv = getBackendSrv(),
    private readonly templateSrv: Pick<TemplateSrv, 'replace'> = getTemplateSrv(),
    private readonly dataSourceSrv: Pick<DataSourceSrv, 'getInstanceSettings'> = getDataSourceSrv()
  ) {
    super(instanceSettings);
    this.jsonData = instanceSettings.jsonData ?? {};
    this.client = new CorrelatorClient(instanceSettings.url ?? '', backendSrv);
    this.variables = new CorrelatorVariableSupport(this);
    this.annotations = createAnnotationSupport();
  }

  getDefaultQuery(_app: CoreApp): Partial<CorrelatorQuery> {
    return defaultQuery('circuitSearch');
  }

  filterQuery(query: CorrelatorQuery): boolean {
    // A trace query without an id would only produce an error panel while the user is typing.
    return !(query.hide || (query.queryType === 'circuitTrace' && !query.query?.trim()));
  }

  getQueryDisplayText(query: CorrelatorQuery): string {
    const q = normalizeQuery(query);
    return q.queryType === 'circuitTrace' ? `Trace ${q.query}` : q.queryType;
  }

  interpolateVariablesInQueries(queries: CorrelatorQuery[], scopedVars: ScopedVars): CorrelatorQuery[] {
    return queries.map((query) => this.interpolate(query, scopedVars));
  }

  query(request: DataQueryRequest<CorrelatorQuery>): Observable<DataQueryResponse> {
    const ctx = this.context(request.range, request.intervalMs);
    const queries = request.targets
      .map((target) => this.interpolate(target, request.scopedVars))
      .filter((query) => this.filterQuery(query));

    const byType = new Map<QueryType, CorrelatorQuery[]>();
    for (const query of queries) {
      byType.set(query.queryType, [...(byType.get(query.queryType) ?? []), query]);
    }
    const perType = [...byType.values()].map((group) => merge(...group.map((query) => this.runOne(query, ctx))));
    return perType.length ? merge(...perType) : of({ data: [] });
  }

  /** Values of a template variable; without a time range the configured default lookback applies. */
  variableValues(query: CorrelatorVariableQuery, range?: TimeRange): Promise<string[]> {
    const replaced = { ...query, filter: query.filter ? this.templateSrv.replace(query.filter) : undefined };
    return variableValues(this.client, replaced, this.epochRange(range));
  }

  async testDatasource(): Promise<TestOutcome> {
    try {
      return outcomeFromInfo(await this.client.get<unknown>('/api/info'));
    } catch (err) {
      return outcomeFromError(err);
    }
  }

  /** One query's frames, or its own error: a failing query never hides the others. */
  private runOne(query: CorrelatorQuery, ctx: QueryContext): Observable<DataQueryResponse> {
    // defer: the request starts on subscription, so an unsubscribed (re-run) panel never fires it.
    return defer(() => runQuery(query, ctx)).pipe(
      map((data): DataQueryResponse => ({ data, key: query.refId })),
      catchError((err: unknown) =>
        of<DataQueryResponse>({
          data: [],
          key: query.refId,
          errors: [{ message: describeError(err), refId: query.refId }],
        })
      )
    );
  }

  private interpolate(target: CorrelatorQuery, scopedVars: ScopedVars): CorrelatorQuery {
    return interpolateQuery(normalizeQuery(target), (text) => this.templateSrv.replace(text, scopedVars));
  }

  private context(range: TimeRange | undefined, intervalMs: number | undefined): QueryContext {
    return {
      client: this.client,
      range: this.epochRange(range),
      intervalMs: intervalMs && intervalMs > 0 ? intervalMs : 60_000,
      targets: this.linkTargets(),
    };
  }

  private epochRange(range: TimeRange | undefined): { from: number; to: number } {
    if (range) {
      return { from: range.from.valueOf(), to: range.to.valueOf() };
    }
    const to = Date.now();
    let lookbackMs: number;
    try {
      lookbackMs = rangeUtil.intervalToMs(this.jsonData.defaultLookback || DEFAULT_LOOKBACK);
    } catch {
      lookbackMs = rangeUtil.intervalToMs(DEFAULT_LOOKBACK);
    }
    return { from: to - lookbackMs, to };
  }

  private linkTargets(): LinkTargets {
    return {
      self: { uid: this.uid, name: this.name },
      tempo: this.linked(this.jsonData.tempoDatasourceUid),
      loki: this.linked(this.jsonData.lokiDatasourceUid),
    };
  }

  private linked(uid: string | undefined): LinkedDatasource | undefined {
    if (!uid) {
      return undefined;
    }
    return { uid, name: this.dataSourceSrv.getInstanceSettings(uid)?.name ?? uid };
  }
}
