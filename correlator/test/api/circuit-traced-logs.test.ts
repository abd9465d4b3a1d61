// A circuit's lines that are its only through its traces have no index in the lists' order. Past a
// budget of them, the store walks every line in that order keeping the circuit's, and reads them
// all only when the walk spends its budget first. Whichever way it goes, a page must be the one
// the whole list gives: the same lines, in order, with every filter, both directions, by cursor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { CASEFOLD_FUNCTION } from '../../src/store/sqlite/where-clause.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const CIRCUIT = 'TRACED-1';
const AT = Date.now() - 3_600_000;
const TRACES = 5;
/** Past the walk's budget at small limits (8 per line asked and 2,000). */
const TRACED_LINES = 2500;
const NEWER_OTHERS = 3000;

interface Line {
  ms: number;
  body: string;
  error: boolean;
  traceId?: string;
  circuit?: string;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
const traceIdOf = (t: number) => hex(0xc0ffee00 + t, 32);

/**
 * The circuit's traced lines, another circuit's between them, a few of its own key, and then more
 * of the other's than the walk's budget: newest first the walk finds none of the circuit's and
 * reads them all; oldest first it finds them at once.
 */
function lines(): Line[] {
  const out: Line[] = [];
  for (let k = 0; k < TRACED_LINES; k++) {
    out.push({ ms: AT + k * 10, body: `traced ${k}`, error: k % 7 === 0, traceId: traceIdOf(k % TRACES) });
    out.push({ ms: AT + k * 10 + 5, body: `other ${k}`, error: k % 7 === 0, circuit: 'OTHER' });
    if (k % 25 === 0) out.push({ ms: AT + k * 10 + 3, body: `keyed ${k}`, error: k % 2 === 0, circuit: CIRCUIT });
  }
  for (let j = 0; j < NEWER_OTHERS; j++) out.push({ ms: AT + TRACED_LINES * 10 + j * 10, body: `newer other ${j}`, error: false, circuit: 'OTHER' });
  return out;
}

async function load(app: FastifyInstance, all: Line[]): Promise<void> {
  const spans = Array.from({ length: TRACES }, (_, t) => ({
    traceId: traceIdOf(t),
    spanId: hex(t + 1, 16),
    name: 'poll',
    kind: 2,
    startTimeUnixNano: String(BigInt(AT) * 1_000_000n),
    endTimeUnixNano: String(BigInt(AT + 50) * 1_000_000n),
    attributes: [text('circuit_id', CIRCUIT)],
  }));
  await postAccepted(app, '/v1/traces', { resourceSpans: [{ resource: { attributes: [text('service.name', 'beorn')] }, scopeSpans: [{ spans }] }] });
  for (let i = 0; i < all.length; i += 1000) {
    const logRecords = all.slice(i, i + 1000).map(l => ({
      timeUnixNano: String(BigInt(l.ms) * 1_000_000n),
      severityNumber: l.error ? 17 : 9,
      body: { stringValue: l.body },
      ...(l.traceId ? { traceId: l.traceId, spanId: hex(1, 16) } : {}),
      attributes: l.circuit ? [text('circuit_id', l.circuit)] : [],
    }));
    await postAccepted(app, '/v1/logs', { resourceLogs: [{ resource: { attributes: [text('service.name', 'arda')] }, scopeLogs: [{ logRecords }] }] });
  }
}

async function pageOf(app: FastifyInstance, url: string): Promise<LogListResponse> {
  const res = await app.inject(url);
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json<LogListResponse>();
}

describe("a circuit's lines through its traces, past the walk's budget", () => {
  it('gives the pages of the whole list, whichever way the store reads them', async t => {
    const app = await buildTestApp(t);
    const all = lines();
    await load(app, all);
    const ours = all.filter(l => l.traceId || l.circuit === CIRCUIT);
    const from = AT + 5000;
    const to = AT + 20_000;
    const filters: [string, (l: Line) => boolean][] = [
      ['', () => true],
      ['&min_severity=error', l => l.error],
      ['&search=traced%201', l => l.body.startsWith('traced 1')],
      // Fewer lines than the budget match: the walk ends with none of the traced ones.
      ['&search=keyed', l => l.body.startsWith('keyed')],
      [`&from=${from}&to=${to}`, l => l.ms >= from && l.ms <= to],
    ];
    for (const [filter, keep] of filters)
      for (const direction of ['backward', 'forward']) {
        const expected = ours
          .filter(keep)
          .sort((a, b) => (direction === 'forward' ? a.ms - b.ms : b.ms - a.ms))
          .map(l => l.body);
        for (const route of [`/api/circuits/${CIRCUIT}/logs?`, `/api/logs?circuit_id=${CIRCUIT}&`])
          for (const limit of [1, 3, 7, 600]) {
            const url = `${route}direction=${direction}${filter}&limit=${limit}`;
            const first = await pageOf(app, url);
            assert.deepEqual(first.logs.map(l => l.body), expected.slice(0, limit), url);
            assert.equal(first.truncated, expected.length > limit, `${url}: truncated`);
            // A few pages on by cursor, to the end for the big pages.
            const seen = first.logs.map(l => l.body as string);
            let cursor = first.nextCursor;
            for (let n = 0; cursor && n < (limit === 600 ? 20 : 3); n++) {
              const next = await pageOf(app, `${url}&cursor=${cursor}`);
              seen.push(...next.logs.map(l => l.body as string));
              cursor = next.nextCursor;
            }
            assert.deepEqual(seen, expected.slice(0, seen.length), `${url}: by cursor`);
            if (limit === 600) assert.equal(seen.length, expected.length, `${url}: paged to the end`);
          }
      }
  });

  it("keeps no circuit's trace ids after a page (built once per page into a temp table)", async t => {
    const app = await buildTestApp(t);
    await load(app, lines());
    const held = () => app.correlator.store.db.prepare('SELECT count(*) FROM temp.page_circuit_traces').pluck().get();
    for (const url of [`/api/circuits/${CIRCUIT}/logs?limit=5`, `/api/circuits/${CIRCUIT}/logs?limit=5000`, `/api/logs?circuit_id=${CIRCUIT}&search=zzz`]) {
      assert.ok((await pageOf(app, url)).logs.length <= 5000);
      assert.equal(held(), 0, url);
    }
  });

  it('reads no more lines for a filter few lines pass than the circuit has and the walk may read', async t => {
    // A search with a letter past ASCII is matched through casefold(), once for each line read:
    // counting its calls counts the lines read. Before RV16's mend the walk kept the filters in
    // its WHERE and read every line of the store to find its budget's worth of ones that passed.
    const app = await buildTestApp(t);
    const all = lines();
    const others = 12_000;
    for (let j = 0; j < others; j++) all.push({ ms: AT - 7_200_000 + j * 100, body: `older other ${j}`, error: false, circuit: 'OTHER' });
    await load(app, all);
    const db = app.correlator.store.db;
    let read = 0;
    db.function(CASEFOLD_FUNCTION, { deterministic: true }, (v: unknown) => {
      read++;
      return typeof v === 'string' ? v.toLowerCase() : v;
    });
    const stored = all.length;
    for (const direction of ['backward', 'forward']) {
      read = 0;
      const page = await pageOf(app, `/api/circuits/${CIRCUIT}/logs?search=%C3%B1&direction=${direction}&limit=10`);
      assert.deepEqual(page.logs, [], 'no line has the letter');
      const ours = all.filter(l => l.traceId || l.circuit === CIRCUIT).length;
      // The circuit's lines (each way reads its own), and a quarter of the walk's budget at limit
      // 10: finding none of the ten it needs by then, the walk gives up for reading them all.
      assert.ok(read <= ours + (10 * 8 + 2000) / 4 + 10, `${direction}: ${read} lines read of ${stored} stored, ${ours} the circuit's`);
    }
  });
});
