import React, { useState } from 'react';
import { InlineField, Input } from '@grafana/ui';

interface Props {
  label: string;
  value?: string;
  placeholder?: string;
  tooltip?: string;
  width?: number;
  invalid?: string;
  /** Called on blur and Enter, so a query runs once per edit rather than per keystroke. */
  onCommit: (value: string | undefined) => void;
}

/** A labelled text input that commits its value on blur or Enter; empty becomes undefined. */
export function TextField({ label, value, placeholder, tooltip, width = 30, invalid, onCommit }: Props) {
  const [draft, setDraft] = useState(value ?? '');
  // Follow outside changes (e.g. a query replaced by a link) without an effect.
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value ?? '');
  }

  const commit = () => {
    const next = draft.trim() === '' ? undefined : draft.trim();
    if (next !== value) {
      onCommit(next);
    }
  };

  return (
    <InlineField label={label} labelWidth={16} tooltip={tooltip} invalid={Boolean(invalid)} error={invalid}>
      <Input
        aria-label={label}
        width={width}
        value={draft}
        placeholder={placeholder}
        onChange={(e) => setDraft(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            commit();
          }
        }}
      />
    </InlineField>
  );
}

interface NumberProps {
  label: string;
  value?: number;
  placeholder?: string;
  onCommit: (value: number | undefined) => void;
}

/** A positive-integer field (limits); anything else clears it so the correlator's default applies. */
export function LimitField({ label, value, placeholder, onCommit }: NumberProps) {
  return (
    <TextField
      label={label}
      width={12}
      value={value === undefined ? undefined : String(value)}
      placeholder={placeholder}
      onCommit={(text) => {
        const parsed = text === undefined ? undefined : Number(text);
        onCommit(parsed !== undefined && Number.isInteger(parsed) && parsed > 0 ? parsed : undefined);
      }}
    />
  );
}
