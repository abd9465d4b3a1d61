// HTTP API of the MDSO analysis. Thin: parse and bound the request, ask the store, shape the answer.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ErrorResponse,
  MdsoDefectCatalogueResponse,
  MdsoDefectReloadResponse,
  MdsoDefectValidateBody,
  MdsoDefectValidateResponse,
  MdsoErrorListQuery,
  MdsoErrorListResponse,
  MdsoIssueDetail,
  MdsoIssueIdParams,
  MdsoIssueListQuery,
  MdsoIssueListResponse,
  MdsoIssuePatchBody,
  MdsoSummaryQuery,
  MdsoSummaryResponse,
  MdsoUncategorizedQuery,
  MdsoUncategorizedResponse,
  NoQuery,
} from '@correlation-station/api-schema';
import type { MdsoAnalysis } from '../analysis.js';
import { nextFreeCode } from '../catalogue/match.js';
import { drainCluster } from '../grouping/drain.js';
import { suggestRule } from '../grouping/suggest.js';
import { CorrelatorError, errors } from '../../../api/errors.js';
import { mediaTypeOf } from '../../../api/media-type.js';
import { parseRange } from '../../../api/time-params.js';
import { decodeCursor, encodeCursor } from './params.js';
import { foldSeries, planBuckets } from './summary.js';
import { circuitView, errorView, historyView, issueView, ruleView } from './views.js';

const TAGS = ['mdso'];
const DAY_MS = 86_400_000;
const ISSUE_RECENT_ERRORS = 10;
const ISSUE_CIRCUITS = 200;
const UNCATEGORISED_TEMPLATES_SCANNED = 5000;
const CLUSTER_EXAMPLES = 3;
const VALIDATE_BODY_LIMIT = 2 * 1024 * 1024;
const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
/** A rule file is YAML text; text/plain is fastify's own parser. */
const VALIDATE_MEDIA_TYPES = [...YAML_MEDIA_TYPES, 'text/plain'];

// Refusals are CorrelatorErrors: the app's error handler answers them like every other route's.

export const mdsoAnalysisRoutes: FastifyPluginAsync<{ analysis: MdsoAnalysis }> = async (fastify, { analysis }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const yamlTypes = YAML_MEDIA_TYPES.filter(t => !app.hasContentTypeParser(t));
  if (yamlTypes.length > 0) {
    app.addContentTypeParser(yamlTypes, { parseAs: 'string', bodyLimit: VALIDATE_BODY_LIMIT }, (_req, body, done) => done(null, body));
  }

  app.get(
    '/api/mdso/errors',
    {
      schema: {
        tags: TAGS,
        summary: 'MDSO error records, newest first',
        querystring: MdsoErrorListQuery,
        response: { 200: MdsoErrorListResponse, 400: ErrorResponse },
      },
    },
    async req => {
      const q = req.query;
      const { fromMs, toMs } = parseRange(q.from, q.to);
      const before = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      if (before === null) throw new CorrelatorError('MDSO_BAD_CURSOR', 400, '"cursor" is not a cursor returned by this endpoint');
      const limit = q.limit ?? 100;
      const rows = analysis.repo.listErrors({
        product: q.product,
        defect: q.defect,
        issueState: q.state,
        circuitId: q.circuit_id,
        fromMs,
        toMs,
        before,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const catalogue = analysis.catalogue.catalogue;
      return {
        errors: page.map(r => errorView(r, r.issue_state, catalogue)),
        nextCursor: rows.length > limit && last ? encodeCursor({ occurredAtMs: last.occurred_at_ms, id: last.id }) : null,
      };
    },
  );

  app.get(
    '/api/mdso/summary',
    {
      schema: {
        tags: TAGS,
        summary: 'MDSO error counts per time bucket, grouped by product, defect code or system',
        querystring: MdsoSummaryQuery,
        response: { 200: MdsoSummaryResponse, 400: ErrorResponse },
      },
    },
    async req => {
      const q = req.query;
      // The same range rules as /api/mdso/errors: both ends inclusive, from == to allowed, from > to refused alike.
      const range = parseRange(q.from, q.to);
      const toMs = range.toMs ?? analysis.now();
      const fromMs = range.fromMs ?? toMs - DAY_MS;
      const plan = planBuckets(fromMs, toMs, q.step);
      if (!plan.ok) throw new CorrelatorError('MDSO_BAD_RANGE', 400, plan.message);
      const groupBy = q.group_by ?? 'defect_code';
      const rows = analysis.repo.bucketCounts(plan.fromMs, plan.toMs, plan.stepSeconds * 1000, groupBy);
      return foldSeries(plan, groupBy, rows);
    },
  );

  app.get(
    '/api/mdso/issues',
    {
      schema: {
        tags: TAGS,
        summary: 'MDSO error issues, most recently seen first',
        querystring: MdsoIssueListQuery,
        response: { 200: MdsoIssueListResponse, 400: ErrorResponse },
      },
    },
    async req => {
      const rows = analysis.repo.listIssues({ ...req.query, limit: req.query.limit ?? 100 });
      const circuits = analysis.repo.circuitCounts(rows.map(r => r.id));
      return { issues: rows.map(r => issueView(r, circuits.get(r.id) ?? 0)) };
    },
  );

  const issueDetail = (id: string) => {
    const row = analysis.repo.issue(id);
    if (!row) return null;
    const catalogue = analysis.catalogue.catalogue;
    const rule = row.defect_code ? catalogue.rules.find(r => r.code === row.defect_code) : undefined;
    const circuits = analysis.repo.circuits(id, ISSUE_CIRCUITS);
    return {
      issue: issueView(row, circuits.total),
      rule: rule ? ruleView(rule) : null,
      history: analysis.repo.history(id).map(historyView),
      recentErrors: analysis.repo.recentErrors(id, ISSUE_RECENT_ERRORS).map(e => errorView(e, row.state, catalogue)),
      circuits: circuits.rows.map(circuitView),
    };
  };

  app.get(
    '/api/mdso/issues/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'One MDSO issue with its state history, recent errors and circuits',
        params: MdsoIssueIdParams,
        querystring: NoQuery,
        response: { 200: MdsoIssueDetail, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async req => {
      const detail = issueDetail(req.params.id);
      if (!detail) throw new CorrelatorError('MDSO_ISSUE_NOT_FOUND', 404, `issue ${req.params.id} not found`);
      return detail;
    },
  );

  app.patch(
    '/api/mdso/issues/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Change an issue: state (acknowledged, resolved, ignored), assignee, note',
        params: MdsoIssueIdParams,
        body: MdsoIssuePatchBody,
        response: { 200: MdsoIssueDetail, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async req => {
      const result = analysis.updateIssue(req.params.id, req.body);
      if (!result.ok) {
        const code = result.status === 404 ? 'MDSO_ISSUE_NOT_FOUND' : result.status === 409 ? 'MDSO_ISSUE_CONFLICT' : 'MDSO_BAD_ISSUE_UPDATE';
        throw new CorrelatorError(code, result.status, result.message);
      }
      return issueDetail(req.params.id)!;
    },
  );

  app.get(
    '/api/mdso/defects',
    {
      schema: {
        tags: TAGS,
        summary: 'The active defect catalogue with match counts',
        querystring: NoQuery,
        response: { 200: MdsoDefectCatalogueResponse },
      },
    },
    async () => {
      const state = analysis.catalogue;
      const counts = new Map(analysis.repo.defectMatchCounts().map(r => [r.defect_code, r]));
      return {
        version: state.catalogue.version,
        hash: state.catalogue.hash,
        source: state.source,
        loadedAtMs: state.loadedAtMs,
        lastReload: state.lastReload,
        rules: state.catalogue.rules.map(r => ({
          ...ruleView(r),
          matchCount: counts.get(r.code)?.n ?? 0,
          lastMatchedMs: counts.get(r.code)?.last_ms ?? null,
        })),
      };
    },
  );

  app.post(
    '/api/mdso/defects/validate',
    {
      bodyLimit: VALIDATE_BODY_LIMIT,
      // A 415 names these: it said "send application/json" to someone sending a rule file.
      config: { acceptedMediaTypes: VALIDATE_MEDIA_TYPES },
      // JSON is parsed into an object, which the body schema then refused as "body must be
      // string": the media type was what was wrong.
      preValidation: async req => {
        if (!VALIDATE_MEDIA_TYPES.includes(mediaTypeOf(req))) throw errors.unsupportedMediaType(req.headers['content-type'], VALIDATE_MEDIA_TYPES, 'CORR_ERR_BAD_CONTENT_TYPE');
      },
      schema: {
        tags: TAGS,
        summary: 'Check a defect rule file without applying it',
        body: MdsoDefectValidateBody,
        response: {
          200: MdsoDefectValidateResponse,
          400: ErrorResponse,
          413: ErrorResponse,
          415: { ...ErrorResponse, description: `A Content-Type other than ${VALIDATE_MEDIA_TYPES.join(', ')}` },
        },
      },
    },
    async req => {
      const result = analysis.validateCatalogue(req.body);
      return result.ok
        ? { valid: true, version: result.catalogue.version, ruleCount: result.catalogue.rules.length, problems: [] }
        : { valid: false, version: null, ruleCount: 0, problems: result.problems };
    },
  );

  app.post(
    '/api/mdso/defects/reload',
    {
      schema: {
        tags: TAGS,
        summary: 'Re-read the configured rule file; on any problem the active catalogue stays',
        response: { 200: MdsoDefectReloadResponse },
      },
    },
    async () => {
      const reload = analysis.reloadCatalogue()!;
      return { reload, version: analysis.catalogue.catalogue.version };
    },
  );

  app.get(
    '/api/mdso/uncategorized',
    {
      schema: {
        tags: TAGS,
        summary: 'Clusters of uncategorised errors, each with a suggested rule',
        querystring: MdsoUncategorizedQuery,
        response: { 200: MdsoUncategorizedResponse, 400: ErrorResponse },
      },
    },
    async req => {
      const catalogue = analysis.catalogue.catalogue;
      const templates = analysis.repo.uncategorisedTemplates(UNCATEGORISED_TEMPLATES_SCANNED, CLUSTER_EXAMPLES);
      const clusters = drainCluster(
        templates.map(t => ({ template: t.template, examples: t.examples, count: t.n, firstSeenMs: t.first_ms, lastSeenMs: t.last_ms, product: t.product })),
        { maxExamples: CLUSTER_EXAMPLES },
      ).slice(0, req.query.limit ?? 50);
      const taken: string[] = [];
      return {
        catalogueVersion: catalogue.version,
        templatesScanned: templates.length,
        clusters: clusters.map(c => {
          const code = nextFreeCode(catalogue, taken);
          taken.push(code);
          return { ...c, suggestedRule: suggestRule(code, c.template, c.examples, c.products.length === 1 ? c.products[0]! : null) };
        }),
      };
    },
  );
};
