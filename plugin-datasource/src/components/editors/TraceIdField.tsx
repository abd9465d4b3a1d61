import React from 'react';
import { TRACE_ID_PATTERN } from '../../constants';
import { TextField } from './TextField';

interface Props {
  value?: string;
  onCommit: (value: string | undefined) => void;
}

/** A trace-id filter that flags anything but 32 hex characters (template variables pass). */
export function TraceIdField({ value, onCommit }: Props) {
  const invalid =
    value && !value.includes('$') && !TRACE_ID_PATTERN.test(value) ? 'A trace id is 32 hex characters' : undefined;
  return <TextField label="Trace id" width={40} value={value} invalid={invalid} onCommit={onCommit} />;
}
