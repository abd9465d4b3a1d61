import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookNotifier, redactUrl } from '../../../src/mdso/analysis/notify/webhook.js';
import type { IssueTransitionEvent } from '../../../src/mdso/analysis/notify/format.js';
import { captureLogger, Clock, newAnalysis, traceFailure } from './helpers.js';

interface Received {
  path: string;
  body: Record<string, unknown>;
}

class Sink {
  readonly received: Received[] = [];
  status = 200;
  private server!: Server;
  private waiters: Array<() => void> = [];
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        res.statusCode = this.status;
        res.end('ok');
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}

function event(n: number, kind: 'new' | 'regressed' = 'new'): IssueTransitionEvent {
  return {
    key: `iss_${n}#1`,
    issueId: `iss_${n}`,
    kind,
    title: `Defect ${n}`,
    defectCode: `DE-${1000 + n}`,
    product: 'ServiceMapper',
    system: 'MDSO',
    count: 1,
    circuitId: '80.L1XX.005054..CHTR',
    atMs: 0,
  };
}

void describe('webhook notifier', () => {
  const sink = new Sink();
  before(() => sink.start());
  after(() => sink.stop());

  void it('posts a Slack message ({text}) for a new issue', async () => {
    sink.received.length = 0;
    const clock = new Clock(1_000_000);
    const n = new WebhookNotifier({ url: `${sink.base}/services/T000/B000/SECRET`, format: 'slack', minIntervalSeconds: 0, logger: captureLogger(), now: clock.now, fetchImpl: fetch });
    n.notify(event(1));
    await n.flushDue();
    await n.close();
    assert.equal(sink.received.length, 1);
    const body = sink.received[0]!.body;
    assert.deepEqual(Object.keys(body), ['text']);
    assert.match(String(body.text), /\*New issue\* `DE-1001` Defect 1/);
    assert.equal(n.stats.sent, 1);
  });

  void it('posts a Webex message ({markdown}) for a regressed issue', async () => {
    sink.received.length = 0;
    const clock = new Clock(1_000_000);
    const n = new WebhookNotifier({ url: `${sink.base}/v1/webhooks/incoming/SECRET`, format: 'webex', minIntervalSeconds: 0, logger: captureLogger(), now: clock.now, fetchImpl: fetch });
    n.notify(event(2, 'regressed'));
    await n.flushDue();
    await n.close();
    assert.equal(sink.received.length, 1);
    const body = sink.received[0]!.body;
    assert.deepEqual(Object.keys(body), ['markdown']);
    assert.match(String(body.markdown), /\*\*Regressed issue\*\* `DE-1002`/);
  });

  void it('sends at most one message per interval; the next carries everything queued meanwhile', async () => {
    sink.received.length = 0;
    const clock = new Clock(1_000_000);
    const n = new WebhookNotifier({ url: `${sink.base}/hook`, format: 'slack', minIntervalSeconds: 600, logger: captureLogger(), now: clock.now, fetchImpl: fetch });
    n.notify(event(1));
    await n.flushDue();
    n.notify(event(2));
    n.notify(event(3));
    await n.flushDue();
    assert.equal(sink.received.length, 1, 'still inside the interval');
    clock.ms += 600_000;
    await n.flushDue();
    await n.close();
    assert.equal(sink.received.length, 2);
    const second = String(sink.received[1]!.body.text);
    assert.match(second, /2 issue updates/);
    assert.match(second, /DE-1002/);
    assert.match(second, /DE-1003/);
  });

  void it('one message per transition: the same transition key is sent once', async () => {
    sink.received.length = 0;
    const clock = new Clock(1_000_000);
    const n = new WebhookNotifier({ url: `${sink.base}/hook`, format: 'slack', minIntervalSeconds: 0, logger: captureLogger(), now: clock.now, fetchImpl: fetch });
    n.notify(event(7));
    n.notify(event(7));
    await n.flushDue();
    n.notify(event(7));
    await n.flushDue();
    await n.close();
    assert.equal(sink.received.length, 1);
    assert.equal(n.stats.duplicates, 2);
  });

  void it('counts failures and logs them without the URL secret', async () => {
    sink.received.length = 0;
    sink.status = 500;
    const logger = captureLogger();
    const clock = new Clock(1_000_000);
    const url = `${sink.base}/services/T000/B000/TOPSECRET?token=HUSH`;
    const n = new WebhookNotifier({ url, format: 'slack', minIntervalSeconds: 0, logger, now: clock.now, fetchImpl: fetch });
    n.notify(event(1));
    await n.flushDue();
    await n.close();
    sink.status = 200;
    assert.equal(n.stats.failed, 1);
    const logged = JSON.stringify(logger.lines);
    assert.match(logged, /MDSO webhook notification failed/);
    assert.doesNotMatch(logged, /TOPSECRET|HUSH/);
    assert.equal(redactUrl(url), `${sink.base}/…`);
  });

  void it('a bounded queue drops (and counts) what does not fit', async () => {
    const clock = new Clock(1_000_000);
    const n = new WebhookNotifier({ url: `${sink.base}/hook`, format: 'slack', minIntervalSeconds: 3600, logger: captureLogger(), now: clock.now, fetchImpl: fetch, queueMax: 2 });
    sink.received.length = 0;
    n.notify(event(1));
    await n.flushDue();
    n.notify(event(2));
    n.notify(event(3));
    n.notify(event(4));
    await n.close();
    assert.equal(n.stats.dropped, 1);
    assert.equal(n.stats.queued, 3);
  });

  void it('recording never waits for the webhook and never fails because of it', async () => {
    let calls = 0;
    // A webhook that never answers: recordFailure must still return at once.
    const hanging: typeof fetch = () => {
      calls++;
      return new Promise<Response>(() => undefined);
    };
    const t = newAnalysis({ config: { webhook: { url: 'https://hooks.example.invalid/x', format: 'slack', minIntervalSeconds: 0 } }, fetchImpl: hanging });
    const failing: typeof fetch = () => Promise.reject(new Error('boom'));
    const t2 = newAnalysis({ config: { webhook: { url: 'https://hooks.example.invalid/y', format: 'slack', minIntervalSeconds: 0 } }, fetchImpl: failing });
    try {
      const r = t.analysis.recordFailure(traceFailure('Unable to connect to device at 10.0.0.1'));
      assert.equal(r.created, true);
      const r2 = t2.analysis.recordFailure(traceFailure('Unable to connect to device at 10.0.0.1'));
      assert.equal(r2.created, true);
      void t.analysis.webhook!.flushDue();
      assert.equal(calls, 1, 'the request went out, recording had already returned');
      await t2.analysis.webhook!.flushDue();
      assert.equal(t2.analysis.webhook!.stats.failed, 1);
    } finally {
      await t2.close();
      // close() of the hanging one would wait forever on the in-flight request; only the db is closed.
      t.db.close();
    }
  });

  void it('notifies on new and regressed issues only, once per transition', async () => {
    const bodies: string[] = [];
    const recorder: typeof fetch = async (_url, init) => {
      bodies.push(String(init?.body));
      return new Response('ok');
    };
    const t = newAnalysis({ config: { webhook: { url: 'https://hooks.example.invalid/z', format: 'slack', minIntervalSeconds: 0 } }, fetchImpl: recorder });
    try {
      const text = 'MDSO | System Error - Application Configuration: No active BPO Constants available';
      const { issueId } = t.analysis.recordFailure(traceFailure(text, { occurredAtMs: t.clock.ms - 1000 }));
      await t.analysis.webhook!.flushDue();
      t.analysis.recordFailure(traceFailure(text, { occurredAtMs: t.clock.ms - 500 }));
      t.analysis.updateIssue(issueId, { state: 'resolved' });
      await t.analysis.webhook!.flushDue();
      t.clock.ms += 1000;
      t.analysis.recordFailure(traceFailure(text, { occurredAtMs: t.clock.ms }));
      await t.analysis.webhook!.flushDue();
      assert.equal(bodies.length, 2);
      assert.match(bodies[0]!, /New issue/);
      assert.match(bodies[1]!, /Regressed issue/);
    } finally {
      await t.close();
    }
  });
});
