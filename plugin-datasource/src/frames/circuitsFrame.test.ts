import { DataFrameView, FieldType } from '@grafana/data';
import { ALL_TARGETS, ONLY_SELF, makeCircuit } from '../test/fixtures';
import { circuitsFrame } from './circuitsFrame';

describe('circuitsFrame', () => {
  const circuits = [
    makeCircuit(),
    makeCircuit({ circuitId: 'CKT-2', status: 'error', errorCount: 2, bridged: false, services: ['arda'] }),
  ];

  it.each([
    ['circuitId', FieldType.string, undefined],
    ['status', FieldType.string, undefined],
    ['services', FieldType.string, undefined],
    ['traceCount', FieldType.number, 'none'],
    ['spanCount', FieldType.number, 'none'],
    ['errorCount', FieldType.number, 'none'],
    ['logCount', FieldType.number, 'none'],
    ['bridged', FieldType.boolean, undefined],
    ['firstSeen', FieldType.time, undefined],
    ['lastSeen', FieldType.time, undefined],
    ['duration', FieldType.number, 'ms'],
  ])('field %s is %s with unit %p', (name, type, unit) => {
    const field = circuitsFrame('A', circuits, ONLY_SELF).fields.find((f) => f.name === name);
    expect(field?.type).toBe(type);
    expect(field?.config.unit).toBe(unit);
  });

  it('has one row per circuit with joined services and epoch-ms times', () => {
    const frame = circuitsFrame('A', circuits, ONLY_SELF);
    expect(frame.meta?.preferredVisualisationType).toBe('table');
    expect(new DataFrameView(frame).toArray()).toEqual([
      expect.objectContaining({
        circuitId: 'CKT-1',
        status: 'ok',
        services: 'beorn, mdso',
        bridged: true,
        firstSeen: 1700000000000,
        duration: 1500,
      }),
      expect.objectContaining({ circuitId: 'CKT-2', status: 'error', services: 'arda', errorCount: 2, bridged: false }),
    ]);
  });

  it.each([
    ['without Loki', ONLY_SELF, ['Open in Circuit Explorer', 'Stitched circuit trace']],
    ['with Loki', ALL_TARGETS, ['Open in Circuit Explorer', 'Stitched circuit trace', 'Logs of this circuit in Loki']],
  ])('circuit id links %s', (_name, targets, titles) => {
    const links = circuitsFrame('A', circuits, targets).fields[0].config.links ?? [];
    expect(links.map((l) => l.title)).toEqual(titles);
    expect(links[0].url).toBe('/a/seefa-correlation-app/circuits/${__value.raw}');
    expect(links[1].internal).toMatchObject({
      datasourceUid: 'corr-uid',
      query: { queryType: 'circuitTrace', query: '${__value.raw}' },
    });
  });

  it('builds an empty frame with all fields for no circuits', () => {
    const frame = circuitsFrame('A', [], ONLY_SELF);
    expect(frame.length).toBe(0);
    expect(frame.fields).toHaveLength(11);
  });
});
