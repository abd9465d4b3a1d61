// An export attempt's signal must fire after a full GC: AbortSignal.any over AbortSignal.timeout
// lost the timeout on Node 20 when one ran during the attempt, and an endpoint that never answered
// hung the export for good.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { attemptSignal } from '../../src/export/attempt-signal.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function silentServer(t: { after: (fn: () => void) => void }): Promise<string> {
  const server: Server = createServer(() => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  t.after(() => server.closeAllConnections());
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/`;
}

test('a request nobody answers is aborted at its timeout, though a full GC ran while it waited', async t => {
  const url = await silentServer(t);
  const stop = new AbortController();
  const attempt = attemptSignal(300, stop.signal);
  const outcome = fetch(url, { method: 'POST', body: 'x', signal: attempt.signal }).then(
    () => 'answered',
    (e: Error) => e.name,
  );
  await new Promise(r => setTimeout(r, 50));
  gc();
  gc();
  // Ten times the timeout: long enough on a loaded machine, and the request would otherwise wait forever.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>(r => (timer = setTimeout(() => r('still waiting after 3 s'), 3000)));
  const result = await Promise.race([outcome, deadline]);
  clearTimeout(timer);
  attempt.clear();
  assert.equal(result, 'TimeoutError');
});

test("the exporter's stop aborts an attempt at once, and a cleared attempt no longer listens to it", async () => {
  const stop = new AbortController();
  const a = attemptSignal(60_000, stop.signal);
  const b = attemptSignal(60_000, stop.signal);
  b.clear();
  stop.abort(new Error('stopping'));
  assert.equal(a.signal.aborted, true);
  assert.equal((a.signal.reason as Error).message, 'stopping');
  assert.equal(b.signal.aborted, false);
  a.clear();
  const late = attemptSignal(60_000, stop.signal);
  assert.equal(late.signal.aborted, true, 'an attempt begun after the stop is aborted from the start');
  late.clear();
});
