import React from 'react';
import { InlineField, RadioButtonGroup } from '@grafana/ui';
import { MDSO_ISSUE_STATES, MDSO_ISSUE_STATE_LABELS } from '../../frames/mdsoStates';
import { TextField } from './TextField';

const ANY = 'any';
const OPTIONS = [
  { label: 'Any', value: ANY },
  ...MDSO_ISSUE_STATES.map((state) => ({ label: MDSO_ISSUE_STATE_LABELS[state], value: state })),
];

interface Props {
  value?: string;
  onChange: (state: string | undefined) => void;
}

/** Filter by MDSO issue state; "Any" clears the filter. */
export function IssueStateField({ value, onChange }: Props) {
  return (
    <InlineField label="Issue state" labelWidth={16}>
      <RadioButtonGroup
        options={OPTIONS}
        value={value ?? ANY}
        onChange={(state) => onChange(state === ANY ? undefined : state)}
      />
    </InlineField>
  );
}

const DEFECT_PATTERN = /^(DE-\d{4}|uncategorized)$/;

/** Why a defect filter would be refused by the correlator, if it would (variables pass). */
export function defectProblem(defect: string | undefined): string | undefined {
  return defect && !defect.includes('$') && !DEFECT_PATTERN.test(defect)
    ? 'A defect code looks like DE-1234, or "uncategorized"'
    : undefined;
}

/** The defect-code filter of the MDSO error and issue queries, with the correlator's own check. */
export function DefectCodeField({
  value,
  onCommit,
}: {
  value?: string;
  onCommit: (defect: string | undefined) => void;
}) {
  return (
    <TextField
      label="Defect code"
      placeholder="DE-1234"
      value={value}
      invalid={defectProblem(value)}
      onCommit={onCommit}
    />
  );
}
