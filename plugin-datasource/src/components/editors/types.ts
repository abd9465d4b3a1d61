import type { QueryOfType, QueryType } from '../../types';

/** What every per-type editor receives: its own narrowed query and a change callback. */
export interface EditorProps<T extends QueryType> {
  query: QueryOfType<T>;
  onChange: (query: QueryOfType<T>) => void;
}

/** Applies a partial change to a query, keeping its type. */
export function patch<T extends QueryType>(props: EditorProps<T>, change: Partial<QueryOfType<T>>): void {
  props.onChange({ ...props.query, ...change });
}
