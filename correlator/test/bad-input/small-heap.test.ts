// A correlator on a small heap, fed new traces well past what once killed it: started with
// --max-old-space-size=64 and the default MAX_TRACKED_TRACES, hot state grew until V8 stopped
// the process ("Reached heap limit") after ~41k of these traces, in 13 s. Now hot state is
// bounded by what the heap holds and a nearly full heap refuses ingest until it has room again:
// the process stays up, answers only 200, 429 or 503 (with Retry-After), takes every request in
// the end, and keeps serving queries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startOnHeap } from '../helpers/child-server.js';
import { testCleanup } from '../helpers/cleanup.js';
import { counterTotal } from '../helpers/http.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';

const HEAP_MIB = 64;
/** Over three times the traces the process died at. */
const TRACES = 150_000;
/** Traces of one span each, three to a circuit: hot state grows by traces, time by spans. */
const TRACES_PER_REQUEST = 1000;
const CLIENTS = 8;
/** Sending stops then, whatever was accepted: a heap that stays full refuses every request. */
const DEADLINE_MS = 60_000;

test(
  `on a ${HEAP_MIB} MiB heap, ${TRACES} new traces leave the process up, answering 2xx/429/503 and serving queries`,
  { timeout: 120_000 },
  async t => {
    const cleanup = testCleanup(t);
    const server = await startOnHeap(cleanup, HEAP_MIB, 'corr-small-heap-');
    const limit = await counterTotal(server.url, 'hot_state_limit', /kind="traces"/);
    assert.ok(limit < 500_000, `hot state bounded below MAX_TRACKED_TRACES by the heap (${limit})`);
    assert.match(
      server.fullLog(),
      /the heap is too small for hot state as configured: .*--max-old-space-size=\d+/,
    );

    const baseMs = Date.now() - 60_000;
    const body = async (i: number) => {
      const specs = Array.from({ length: TRACES_PER_REQUEST }, (_, k) => ({
        name: 'activate',
        startMs: k,
        endMs: k + 5,
        attributes: { circuit_id: `heap-${i}-${Math.floor(k / 3)}` },
      }));
      return (await serviceTelemetry('beorn', baseMs, specs, `small-heap:${i}`)).traces.protobuf;
    };
    const requests = Math.ceil(TRACES / TRACES_PER_REQUEST);
    const statuses = new Map<number, number>();
    const refusals = new Set<string>();
    const withoutRetryAfter: string[] = [];
    const deadline = Date.now() + DEADLINE_MS;
    let next = 0;
    let tracesAccepted = 0;
    const post = (body: Uint8Array) =>
      fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      }).then(
        async res => ({
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          text: Buffer.from(await res.arrayBuffer()).toString('latin1'),
        }),
        (e: unknown) => ({ status: -1, retryAfter: null, text: String(e) }),
      );
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < requests; i = next++) {
          const bytes = await body(i);
          // A refused request is sent again, as an exporter does, after less than Retry-After: the test is short.
          for (;;) {
            if (!server.running() || Date.now() > deadline) return;
            const res = await post(bytes);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 200) {
              tracesAccepted += TRACES_PER_REQUEST;
              break;
            }
            refusals.add(`${res.status} ${res.text.replace(/[^\x20-\x7e]/g, '').slice(0, 160)}`);
            if (
              (res.status === 429 || res.status === 503) &&
              !/^[1-9]\d*$/.test(res.retryAfter ?? '')
            )
              withoutRetryAfter.push(res.text);
            await new Promise(resolve => setTimeout(resolve, 250));
          }
        }
      }),
    );
    const summary = JSON.stringify(Object.fromEntries(statuses));
    if (server.running())
      t.diagnostic(
        `answers ${summary}, ${tracesAccepted} traces accepted, peak RSS ${Math.round(server.memory().peak / 2 ** 20)} MiB`,
      );
    for (const r of refusals) t.diagnostic(r);
    assert.ok(
      server.running(),
      `the process is alive (answers ${summary}, ${tracesAccepted} traces accepted):\n${server.output().slice(-1500)}`,
    );
    assert.deepEqual(
      [...statuses.keys()].filter(s => s !== 200 && s !== 429 && s !== 503),
      [],
      `only 200/429/503: ${summary}`,
    );
    assert.deepEqual(withoutRetryAfter, [], 'every refusal has Retry-After');
    assert.equal(
      tracesAccepted,
      requests * TRACES_PER_REQUEST,
      `every request taken in the end: ${summary}`,
    );

    const circuits = await fetch(`${server.url}/api/circuits?limit=5`);
    const listed = await circuits.text();
    assert.equal(circuits.status, 200, listed);
    assert.ok((JSON.parse(listed) as { circuits: unknown[] }).circuits.length > 0, listed);
    const tracked = await counterTotal(server.url, 'hot_state_entries', /kind="traces"/);
    assert.ok(tracked <= limit, `hot state within its bound: ${tracked} of ${limit}`);
    assert.ok(
      (await counterTotal(server.url, 'hot_state_evictions_total', /kind="traces"/)) > 0,
      'evictions counted',
    );
  },
);
