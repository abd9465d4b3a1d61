import type { AnnotationSupport } from '@grafana/data';
import { defaultQuery } from '../query/defaults';
import type { CorrelatorQuery } from '../types';
import { AnnotationQueryEditor } from './AnnotationQueryEditor';

/**
 * Annotations run through `query()` with an `annotations` query; Grafana's standard frame-to-event
 * processing reads the `time`, `timeEnd`, `title`, `text` and `tags` fields of the frames.
 */
export function createAnnotationSupport(): AnnotationSupport<CorrelatorQuery> {
  return {
    QueryEditor: AnnotationQueryEditor,
    getDefaultQuery: () => defaultQuery('annotations', 'Annotations'),
    prepareAnnotation: (json) => ({ ...json, target: json.target ?? defaultQuery('annotations', 'Annotations') }),
  };
}
