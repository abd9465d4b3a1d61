// What a page of a circuit's logs costs when the circuit has many: a circuit polled for days has
// tens of thousands of lines. Its lines come by its own key (read in the list's order from the
// key's index, so a page costs what it lists) or only through its traces (no index holds them in
// time order: the store walks all lines in that order keeping the circuit's, or, when the walk
// finds too few of them, reads them all and sorts them). Pages by cursor, deep into the list,
// must cost what the first does. A search reads every line of the circuit (there is no text index).
// Run: cd correlator && node --expose-gc --import tsx bench/run.ts circuit-logs
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogListResponse } from '@correlation-station/api-schema';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { figure, heading, percentile } from './lib/report.js';

const KEYED_LINES = 100_000;
const TRACES = 20_000;
const LINES_PER_TRACE = 4;
/**
 * A circuit polled every 6 s for a week, a line per poll through its trace: its trace set is what
 * a page builds (a page built it up to three times before 2026-12-08). Before the others in time,
 * so their walks do not reach its lines.
 */
const POLLED_TRACES = 100_000;
const POLL_MS = 6000;
/** Other circuits' lines, interleaved in time with both circuits'. */
const OTHER_LINES = 50_000;
const PAGE = 500;
const TIMED = 15;
/** Pages walked by cursor before the deep page is timed. */
const DEEP = 20;

heading(
  "a page of a circuit's logs",
  `in-process app.inject; circuit KEYED: ${KEYED_LINES} lines carrying its key; circuit TRACED: ${TRACES} traces of ${LINES_PER_TRACE} lines ` +
    `each, the lines with the trace id only; POLLED: ${POLLED_TRACES} traces of one such line, ${POLL_MS / 1000} s apart, before the others; ${OTHER_LINES} lines of other circuits between them; pages of ${PAGE}, newest first, ` +
    `${TIMED} timed each; load average ${loadavg().map(x => x.toFixed(1)).join(' ')}`,
);

const dir = mkdtempSync(join(tmpdir(), 'bench-circuit-logs-'));
const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, MAX_TRACKED_TRACES: '1000000' }) });
await app.ready();

const start = Date.now() - 3 * 86_400_000;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
const nanos = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);

async function post(url: string, payload: object): Promise<void> {
  const res = await app.inject({ method: 'POST', url, payload });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
}

const logsOf = (records: object[]) => ({
  resourceLogs: [{ resource: { attributes: [text('service.name', 'arda')] }, scopeLogs: [{ logRecords: records }] }],
});

const filled = performance.now();
// The traced circuit, a poll every 2 s: its entry span names it, its lines only the trace.
for (let b = 0; b < TRACES; b += 1000) {
  const spans: object[] = [];
  const lines: object[] = [];
  for (let i = b; i < Math.min(TRACES, b + 1000); i++) {
    const ms = start + i * 2000;
    const traceId = hex(i + 1, 32);
    const spanId = hex(i + 1, 16);
    spans.push({ traceId, spanId, name: 'poll', kind: 2, startTimeUnixNano: nanos(ms), endTimeUnixNano: nanos(ms + 50), attributes: [text('circuit_id', 'TRACED')] });
    for (let j = 0; j < LINES_PER_TRACE; j++)
      lines.push({ timeUnixNano: nanos(ms + j * 10), severityNumber: 9, body: { stringValue: `poll ${i} step ${j}` }, traceId, spanId });
  }
  await post('/v1/traces', { resourceSpans: [{ resource: { attributes: [text('service.name', 'beorn')] }, scopeSpans: [{ spans }] }] });
  await post('/v1/logs', logsOf(lines));
}
const polledFrom = start - POLLED_TRACES * POLL_MS;
for (let b = 0; b < POLLED_TRACES; b += 1000) {
  const spans: object[] = [];
  const lines: object[] = [];
  for (let i = b; i < Math.min(POLLED_TRACES, b + 1000); i++) {
    const ms = polledFrom + i * POLL_MS;
    const traceId = hex(0x10000000 + i, 32);
    const spanId = hex(0x10000000 + i, 16);
    spans.push({ traceId, spanId, name: 'poll', kind: 2, startTimeUnixNano: nanos(ms), endTimeUnixNano: nanos(ms + 50), attributes: [text('circuit_id', 'POLLED')] });
    lines.push({ timeUnixNano: nanos(ms + 10), severityNumber: 9, body: { stringValue: `polled ${i}` }, traceId, spanId });
  }
  await post('/v1/traces', { resourceSpans: [{ resource: { attributes: [text('service.name', 'beorn')] }, scopeSpans: [{ spans }] }] });
  await post('/v1/logs', logsOf(lines));
}
// The keyed circuit and the others, over the same days.
const span = TRACES * 2000;
for (let b = 0; b < KEYED_LINES + OTHER_LINES; b += 2000) {
  const lines: object[] = [];
  for (let i = b; i < Math.min(KEYED_LINES + OTHER_LINES, b + 2000); i++) {
    // Two of every three: KEYED_LINES of the whole when OTHER_LINES is half of them.
    const keyed = i % 3 !== 2;
    const circuit = keyed ? 'KEYED' : `OTHER-${i % 100}`;
    lines.push({ timeUnixNano: nanos(start + (i * span) / (KEYED_LINES + OTHER_LINES)), severityNumber: 9, body: { stringValue: `line ${i}` }, attributes: [text('circuit_id', circuit)] });
  }
  await post('/v1/logs', logsOf(lines));
}
console.log(`filled in ${((performance.now() - filled) / 1000).toFixed(1)} s`);

async function page(url: string): Promise<{ ms: number; body: LogListResponse }> {
  const t0 = performance.now();
  const res = await app.inject(url);
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return { ms, body: res.json<LogListResponse>() };
}

async function timed(url: string): Promise<number[]> {
  await page(url);
  const times: number[] = [];
  for (let i = 0; i < TIMED; i++) times.push((await page(url)).ms);
  return times.sort((a, b) => a - b);
}

for (const circuit of ['KEYED', 'TRACED', 'POLLED']) {
  const base = `/api/circuits/${circuit}/logs?limit=${PAGE}`;
  const first = await timed(base);
  let cursor = '';
  for (let i = 0; i < DEEP; i++) {
    const { body } = await page(cursor ? `${base}&cursor=${cursor}` : base);
    if (!body.nextCursor) throw new Error(`${circuit}: no page ${i + 2}`);
    cursor = body.nextCursor;
  }
  const deep = await timed(`${base}&cursor=${cursor}`);
  // A search no line passes: every line of the circuit is read for it (no text index), and the
  // walk through traced lines reads no more than its budget (RV16: it read the whole store).
  const searched = await timed(`${base}&search=zzz`);
  const name = circuit.toLowerCase();
  console.log(
    `${circuit}: first page p50 ${percentile(first, 50).toFixed(1)} ms, p99 ${percentile(first, 99).toFixed(1)} ms; ` +
      `page ${DEEP + 1} by cursor p50 ${percentile(deep, 50).toFixed(1)} ms; a search no line passes p50 ${percentile(searched, 50).toFixed(1)} ms`,
  );
  // By its key a page costs what it lists; through traces it is linear in the circuit's lines.
  const goal = circuit === 'KEYED' ? { op: '<' as const, value: 50 } : undefined;
  figure(`circuit_logs_${name}_first_page_p99`, percentile(first, 99), 'ms', goal);
  figure(`circuit_logs_${name}_deep_page_p99`, percentile(deep, 99), 'ms', goal);
  figure(`circuit_logs_${name}_search_none_p99`, percentile(searched, 99), 'ms');
}

await app.close();
rmSync(dir, { recursive: true, force: true });
