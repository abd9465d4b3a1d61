import type {
  MdsoErrorListResponse,
  MdsoIssueListResponse,
  MdsoIssueState,
  MdsoSummaryResponse,
} from '@correlation-station/api-schema';
import { DEFAULT_LIMIT } from '../constants';
import { failureAnnotationsFrame, issueAnnotationsFrame } from '../frames/annotationFrames';
import { isMdsoIssueState } from '../frames/mdsoStates';
import { mdsoErrorsFrame, mdsoIssuesFrame, mdsoSummaryFrames } from '../frames/mdsoFrames';
import type { Runner } from './runners';

/** The correlator caps summary buckets by width; one second is the finest step. */
const MAX_STEP_SECONDS = 31_536_000;
/** Annotation queries fetch one page; more failures than this in one range would be noise anyway. */
const ANNOTATION_LIMIT = 1000;
/** The correlator's largest page of errors and issues. */
const MDSO_MAX_LIMIT = 1000;

export function stepSeconds(intervalMs: number): number {
  return Math.min(MAX_STEP_SECONDS, Math.max(1, Math.round(intervalMs / 1000)));
}

/** A state filter the correlator accepts, or a clear error instead of its 400. */
function stateFilter(state: string | undefined): MdsoIssueState | undefined {
  if (state === undefined) {
    return undefined;
  }
  if (!isMdsoIssueState(state)) {
    throw new Error(`Unknown issue state "${state}".`);
  }
  return state;
}

export const mdsoErrorsRunner: Runner<'mdsoErrors'> = async (query, ctx) => {
  if (query.format === 'counts') {
    const summary = await ctx.client.get<MdsoSummaryResponse>('/api/mdso/summary', {
      from: ctx.range.from,
      to: ctx.range.to,
      step: stepSeconds(ctx.intervalMs),
      group_by: query.groupBy ?? 'product',
    });
    return mdsoSummaryFrames(query.refId, summary);
  }
  const response = await ctx.client.get<MdsoErrorListResponse>('/api/mdso/errors', {
    product: query.product,
    defect: query.defect,
    state: stateFilter(query.state),
    circuit_id: query.circuitId,
    from: ctx.range.from,
    to: ctx.range.to,
    limit: Math.min(query.limit ?? DEFAULT_LIMIT, MDSO_MAX_LIMIT),
  });
  return [mdsoErrorsFrame(query.refId, response.errors, ctx.targets, response.nextCursor !== null)];
};

export const mdsoIssuesRunner: Runner<'mdsoIssues'> = async (query, ctx) => {
  const response = await ctx.client.get<MdsoIssueListResponse>('/api/mdso/issues', {
    state: stateFilter(query.state),
    product: query.product,
    defect: query.defect,
    limit: Math.min(query.limit ?? DEFAULT_LIMIT, MDSO_MAX_LIMIT),
  });
  return [mdsoIssuesFrame(query.refId, response.issues)];
};

export const annotationsRunner: Runner<'annotations'> = async (query, ctx) => {
  if (query.source === 'mdsoIssues') {
    const states: MdsoIssueState[] = ['new', 'regressed'];
    const pages = await Promise.all(
      states.map((state) =>
        ctx.client.get<MdsoIssueListResponse>('/api/mdso/issues', {
          state,
          product: query.product,
          defect: query.defect,
          limit: MDSO_MAX_LIMIT,
        })
      )
    );
    return [
      issueAnnotationsFrame(
        query.refId,
        pages.flatMap((p) => p.issues),
        ctx.range
      ),
    ];
  }
  const response = await ctx.client.get<MdsoErrorListResponse>('/api/mdso/errors', {
    product: query.product,
    defect: query.defect,
    circuit_id: query.circuitId,
    from: ctx.range.from,
    to: ctx.range.to,
    limit: ANNOTATION_LIMIT,
  });
  return [failureAnnotationsFrame(query.refId, response.errors)];
};
