import type { Runner } from './runners';

// Placeholder until api-schema/src/mdso-analysis.ts lands.
export const mdsoErrorsRunner: Runner<'mdsoErrors'> = async () => {
  throw new Error('MDSO errors are not available yet.');
};
export const mdsoIssuesRunner: Runner<'mdsoIssues'> = async () => {
  throw new Error('MDSO issues are not available yet.');
};
export const annotationsRunner: Runner<'annotations'> = async () => {
  throw new Error('Annotations are not available yet.');
};
