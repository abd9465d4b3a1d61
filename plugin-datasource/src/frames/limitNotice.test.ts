import type { DataFrame } from '@grafana/data';
import { ONLY_SELF, makeCircuit, makeCorrelation, makeLog } from '../test/fixtures';
import { circuitsFrame } from './circuitsFrame';
import { correlationsFrame } from './correlationsFrame';
import { logsFrame } from './logsFrame';

describe('a list cut at its limit', () => {
  const builders: Array<[string, (truncated: boolean | undefined) => DataFrame, string]> = [
    ['circuits', (truncated) => circuitsFrame('A', [makeCircuit(), makeCircuit({ circuitId: 'CKT-2' })], ONLY_SELF, truncated), '2 circuits'],
    ['correlations', (truncated) => correlationsFrame('A', [makeCorrelation()], ONLY_SELF, truncated), '1 correlations'],
    ['logs', (truncated) => logsFrame('A', [makeLog(), makeLog({ id: 'l2' }), makeLog({ id: 'l3' })], ONLY_SELF, [], truncated), '3 log lines'],
  ];

  it.each(builders)('%s: a warning names how many are shown', (_name, build, shown) => {
    const notices = build(true).meta?.notices ?? [];
    expect(notices).toHaveLength(1);
    expect(notices[0].severity).toBe('warning');
    expect(notices[0].text).toContain(`first ${shown} only`);
  });

  it.each(builders)('%s: no notice when the list is whole or the flag is absent', (_name, build) => {
    expect(build(false).meta?.notices).toBeUndefined();
    expect(build(undefined).meta?.notices).toBeUndefined();
  });
});
