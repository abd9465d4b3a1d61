import { DataFrameView, FieldType } from '@grafana/data';
import { ONLY_SELF, TRACE_A, TRACE_B, makeCorrelation } from '../test/fixtures';
import { correlationsFrame } from './correlationsFrame';

describe('correlationsFrame', () => {
  it('lists correlation events with confidence as a percent unit', () => {
    const frame = correlationsFrame('C', [makeCorrelation()], ONLY_SELF);
    expect(frame.refId).toBe('C');
    expect(frame.fields.map((f) => f.name)).toEqual([
      'id',
      'method',
      'key',
      'value',
      'confidence',
      'services',
      'traceIds',
      'spanCount',
      'logCount',
      'firstSeen',
      'lastSeen',
    ]);
    const confidence = frame.fields.find((f) => f.name === 'confidence');
    expect(confidence?.config).toMatchObject({ unit: 'percentunit', min: 0, max: 1 });
    expect(frame.fields.find((f) => f.name === 'firstSeen')?.type).toBe(FieldType.time);
    expect(new DataFrameView(frame).get(0)).toMatchObject({
      value: 'CKT-1',
      confidence: 0.8,
      traceIds: `${TRACE_A}, ${TRACE_B}`,
    });
  });

  it.each([
    ['all circuit_id correlations', [makeCorrelation()], true],
    ['trace_id correlations', [makeCorrelation({ key: 'trace_id', method: 'trace_id', value: TRACE_A })], false],
    ['a mix', [makeCorrelation(), makeCorrelation({ key: 'request_id' })], false],
  ])('value links like a circuit id for %s: %p', (_name, correlations, linked) => {
    const value = correlationsFrame('C', correlations, ONLY_SELF).fields.find((f) => f.name === 'value');
    expect(Boolean(value?.config.links?.length)).toBe(linked);
  });
});
