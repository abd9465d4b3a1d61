import { DataFrameView, FieldType } from '@grafana/data';
import type { ServiceGraph } from '@correlation-station/api-schema';
import { BRIDGED_EDGE_COLOR, LINKED_EDGE_COLOR, serviceGraphFrames } from './serviceGraphFrames';

describe('serviceGraphFrames', () => {
  const [nodes, edges] = serviceGraphFrames('G', graph());

  it('returns node-graph nodes and edges frames', () => {
    expect([nodes.name, edges.name]).toEqual(['nodes', 'edges']);
    expect(nodes.meta?.preferredVisualisationType).toBe('nodeGraph');
    expect(edges.meta?.preferredVisualisationType).toBe('nodeGraph');
    expect(nodes.fields.map((f) => f.name)).toEqual([
      'id',
      'title',
      'mainstat',
      'secondarystat',
      'arc__errors',
      'arc__ok',
      'detail__traceCount',
    ]);
    expect(edges.fields.map((f) => f.name)).toEqual([
      'id',
      'source',
      'target',
      'mainstat',
      'secondarystat',
      'detail__errorCount',
      'detail__bridged',
      'detail__linked',
      'detail__clockOffset',
      'color',
      'strokedasharray',
    ]);
  });

  it.each([
    ['beorn', 0, 0.1, 0.9],
    ['mdso', 1, 0, 1],
    ['idle', 2, 0, 1],
  ])('node %s has arcs errors=%d/%d summing to 1', (id, index, errors, ok) => {
    const row = new DataFrameView(nodes).get(index);
    expect(row.id).toBe(id);
    expect(row.arc__errors).toBeCloseTo(errors);
    expect(row.arc__ok).toBeCloseTo(ok);
  });

  it('colours arcs and labels stats', () => {
    expect(nodes.fields[4].config.color).toEqual({ mode: 'fixed', fixedColor: 'red' });
    expect(edges.fields.find((f) => f.name === 'secondarystat')?.config.unit).toBe('percentunit');
    expect(edges.fields.find((f) => f.name === 'detail__bridged')?.type).toBe(FieldType.boolean);
  });

  it.each([
    [false, undefined],
    [
      true,
      [
        {
          severity: 'warning',
          text:
            'Drawn from the 5000 most recent traces of the time range only; services and calls of older traces are missing ' +
            'and counts are low. Narrow the time range or pick a circuit.',
        },
      ],
    ],
  ])('truncated=%p → notices on the nodes frame %j, none on the edges frame', (truncated, notices) => {
    const [cutNodes, cutEdges] = serviceGraphFrames('G', { ...graph(), traceCount: 5000, truncated });
    expect(cutNodes.meta?.notices).toEqual(notices);
    expect(cutEdges.meta?.notices).toBeUndefined();
  });

  it.each([
    [0, '-5010 to -4990 ms (3 calls)'],
    [1, ''],
    [2, ''],
  ])("edge %d shows its target's clock offset as %p", (index, text) => {
    expect(new DataFrameView(edges).get(index).detail__clockOffset).toBe(text);
  });

  it.each([
    [0, false, false, 'green', ''],
    [1, true, false, BRIDGED_EDGE_COLOR, '6 4'],
    [2, false, true, LINKED_EDGE_COLOR, '2 4'],
  ])('edge %d bridged=%p linked=%p is %s and dashed %p', (index, bridged, linked, color, dash) => {
    expect(new DataFrameView(edges).get(index)).toMatchObject({
      detail__bridged: bridged,
      detail__linked: linked,
      color,
      strokedasharray: dash,
    });
  });

  it("shows a link edge's links as its calls and its failed linking spans as errors", () => {
    expect(new DataFrameView(edges).get(2)).toMatchObject({
      id: 'orders->billing:link',
      mainstat: 2,
      detail__errorCount: 1,
    });
    expect(edges.fields.find((f) => f.name === 'detail__linked')).toMatchObject({ type: FieldType.boolean });
  });

  it('draws an edge of an older correlator, which sends no linked, as a call', () => {
    const { linked: _absent, ...older } = graph().edges[0];
    const [, olderEdges] = serviceGraphFrames('G', { ...graph(), edges: [older as ServiceGraph['edges'][number]] });
    expect(new DataFrameView(olderEdges).get(0)).toMatchObject({
      detail__linked: false,
      color: 'green',
      strokedasharray: '',
    });
  });
});

function graph(): ServiceGraph {
  return {
    nodes: [
      { id: 'beorn', title: 'beorn', spanCount: 10, errorCount: 1, traceCount: 2 },
      { id: 'mdso', title: 'mdso', spanCount: 4, errorCount: 0, traceCount: 1 },
      { id: 'idle', title: 'idle', spanCount: 0, errorCount: 0, traceCount: 0 },
    ],
    edges: [
      {
        id: 'beorn->arda',
        source: 'beorn',
        target: 'arda',
        callCount: 3,
        errorCount: 0,
        bridged: false,
        linked: false,
        meanConfidence: 1,
        clockOffset: { lowMs: -5010, highMs: -4990, calls: 3, conflicting: false },
      },
      {
        id: 'beorn->mdso',
        source: 'beorn',
        target: 'mdso',
        callCount: 1,
        errorCount: 0,
        bridged: true,
        linked: false,
        meanConfidence: 0.9,
      },
      {
        id: 'orders->billing:link',
        source: 'orders',
        target: 'billing',
        callCount: 2,
        errorCount: 1,
        bridged: false,
        linked: true,
        meanConfidence: 1,
      },
    ],
    traceCount: 3,
    traceLimit: 5000,
    truncated: false,
  };
}
