// Public face of the MDSO analysis (names fixed by the MDSO integration contract).
export type { OrchTraceEntry, FailureInput, RecordedFailure, MdsoAnalysisOptions } from './types.js';
export { MdsoAnalysis } from './analysis.js';
export type { CatalogueState, IssueUpdate, IssueUpdateResult } from './analysis.js';
export { mdsoAnalysisRoutes } from './api/routes.js';
