import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkManualTransition, ISSUE_STATES, type IssueState } from '../../../src/mdso/analysis/issues/state-machine.js';
import { newAnalysis, traceFailure } from './helpers.js';

const BPO = 'MDSO | System Error - Application Configuration: No active BPO Constants available';

function states(t: ReturnType<typeof newAnalysis>, issueId: string): Array<[string | null, string, string]> {
  return t.analysis.repo.history(issueId).map(h => [h.from_state, h.to_state, h.actor]);
}

void describe('manual transitions', () => {
  const allowed: Record<IssueState, IssueState[]> = {
    new: ['acknowledged', 'resolved', 'ignored'],
    acknowledged: ['resolved', 'ignored'],
    regressed: ['acknowledged', 'resolved', 'ignored'],
    resolved: ['acknowledged', 'ignored'],
    ignored: ['acknowledged', 'resolved'],
  };
  for (const from of ISSUE_STATES) {
    for (const to of ISSUE_STATES) {
      const want = allowed[from].includes(to) ? 'ok' : to === 'new' || to === 'regressed' ? 400 : 409;
      void it(`${from} → ${to}: ${want}`, () => {
        const r = checkManualTransition(from, to);
        assert.equal(r.ok ? 'ok' : r.status, want);
      });
    }
  }
});

void describe('issue lifecycle', () => {
  void it('groups by defect code and product, counts occurrences and circuits', async () => {
    const t = newAnalysis();
    try {
      const a = t.analysis.recordFailure(traceFailure(BPO, { circuitId: '11.AAAA.000001..CHTR' }));
      const b = t.analysis.recordFailure(traceFailure(BPO, { circuitId: '11.AAAA.000002..CHTR' }));
      const c = t.analysis.recordFailure(traceFailure(BPO, { circuitId: '11.AAAA.000002..CHTR' }));
      const other = t.analysis.recordFailure(traceFailure(BPO, { product: 'NetworkService', resourceTypeId: 'charter.resourceTypes.NetworkService' }));
      assert.equal(a.defectCode, 'DE-1301');
      assert.equal(a.issueId, b.issueId);
      assert.equal(b.issueId, c.issueId);
      assert.notEqual(a.issueId, other.issueId, 'same defect on another product is another issue');
      const issue = t.analysis.repo.issue(a.issueId)!;
      assert.equal(issue.count, 3);
      assert.equal(issue.state, 'new');
      assert.equal(t.analysis.repo.circuits(a.issueId, 10).total, 2);
      assert.deepEqual(states(t, a.issueId), [[null, 'new', 'system']]);
    } finally {
      await t.close();
    }
  });

  void it('recording the same failure twice is idempotent', async () => {
    const t = newAnalysis();
    try {
      const f = traceFailure(BPO);
      const first = t.analysis.recordFailure(f);
      const again = t.analysis.recordFailure({ ...f });
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.errorId, first.errorId);
      assert.equal(again.issueId, first.issueId);
      assert.equal(t.analysis.repo.issue(first.issueId)!.count, 1);
    } finally {
      await t.close();
    }
  });

  void it('new → acknowledged → resolved → regressed on recurrence, with history', async () => {
    const t = newAnalysis();
    try {
      const { issueId } = t.analysis.recordFailure(traceFailure(BPO));
      assert.equal(t.analysis.updateIssue(issueId, { state: 'acknowledged', assignee: 'ana', actor: 'ana' }).ok, true);
      t.clock.advanceHours(1);
      assert.equal(t.analysis.updateIssue(issueId, { state: 'resolved', note: 'constants restored', actor: 'ana' }).ok, true);
      t.clock.advanceHours(1);
      const later = traceFailure(BPO, { occurredAtMs: t.clock.ms });
      t.analysis.recordFailure(later);
      const issue = t.analysis.repo.issue(issueId)!;
      assert.equal(issue.state, 'regressed');
      assert.equal(issue.assignee, 'ana', 'a regression keeps the assignee');
      assert.deepEqual(states(t, issueId), [
        [null, 'new', 'system'],
        ['new', 'acknowledged', 'ana'],
        ['acknowledged', 'resolved', 'ana'],
        ['resolved', 'regressed', 'system'],
      ]);
      assert.equal(t.analysis.repo.history(issueId)[2]!.note, 'constants restored');
    } finally {
      await t.close();
    }
  });

  void it('a late failure that happened before the resolution does not regress the issue', async () => {
    const t = newAnalysis();
    try {
      const { issueId } = t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms - 60_000 }));
      t.analysis.updateIssue(issueId, { state: 'resolved' });
      t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms - 30_000 }));
      const issue = t.analysis.repo.issue(issueId)!;
      assert.equal(issue.state, 'resolved');
      assert.equal(issue.count, 2);
    } finally {
      await t.close();
    }
  });

  void it('an ignored issue stays ignored but keeps counting', async () => {
    const t = newAnalysis();
    try {
      const { issueId } = t.analysis.recordFailure(traceFailure(BPO));
      t.analysis.updateIssue(issueId, { state: 'ignored' });
      t.clock.advanceHours(1);
      t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms }));
      t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms + 1 }));
      const issue = t.analysis.repo.issue(issueId)!;
      assert.equal(issue.state, 'ignored');
      assert.equal(issue.count, 3);
      assert.equal(issue.last_seen_ms, t.clock.ms + 1);
    } finally {
      await t.close();
    }
  });

  void it('invalid updates are refused with the right status and leave the issue alone', async () => {
    const t = newAnalysis();
    try {
      const { issueId } = t.analysis.recordFailure(traceFailure(BPO));
      const regress = t.analysis.updateIssue(issueId, { state: 'regressed' });
      assert.deepEqual(regress.ok ? null : regress.status, 400);
      const same = t.analysis.updateIssue(issueId, { state: 'new' });
      assert.equal(same.ok ? null : same.status, 400);
      t.analysis.updateIssue(issueId, { state: 'acknowledged' });
      const again = t.analysis.updateIssue(issueId, { state: 'acknowledged' });
      assert.equal(again.ok ? null : again.status, 409);
      const missing = t.analysis.updateIssue('iss_nope', { state: 'resolved' });
      assert.equal(missing.ok ? null : missing.status, 404);
      const empty = t.analysis.updateIssue(issueId, {});
      assert.equal(empty.ok ? null : empty.status, 400);
      assert.equal(t.analysis.repo.issue(issueId)!.state, 'acknowledged');
    } finally {
      await t.close();
    }
  });

  void it('assigning without a state change is recorded in the history', async () => {
    const t = newAnalysis();
    try {
      const { issueId } = t.analysis.recordFailure(traceFailure(BPO));
      const r = t.analysis.updateIssue(issueId, { assignee: 'bo', actor: 'lead' });
      assert.ok(r.ok, 'r.ok');
      assert.equal(t.analysis.repo.issue(issueId)!.assignee, 'bo');
      const last = t.analysis.repo.history(issueId).at(-1)!;
      assert.deepEqual([last.from_state, last.to_state, last.actor, last.assignee, last.note], ['new', 'new', 'lead', 'bo', 'assigned to bo']);
    } finally {
      await t.close();
    }
  });

  void it('sweep() resolves open issues quiet for issueAutoResolveHours, and only those', async () => {
    const t = newAnalysis({ config: { issueAutoResolveHours: 24 } });
    try {
      const quiet = t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms })).issueId;
      const ignored = t.analysis.recordFailure(traceFailure('Unable to connect to device at 10.0.0.1', { occurredAtMs: t.clock.ms })).issueId;
      t.analysis.updateIssue(ignored, { state: 'ignored' });
      t.clock.advanceHours(20);
      const busy = t.analysis.recordFailure(traceFailure('KeyError: \'TID\'', { occurredAtMs: t.clock.ms })).issueId;
      t.analysis.sweep();
      assert.equal(t.analysis.repo.issue(quiet)!.state, 'new', 'not yet quiet long enough');
      t.clock.advanceHours(5);
      t.analysis.sweep();
      assert.equal(t.analysis.repo.issue(quiet)!.state, 'resolved');
      assert.equal(t.analysis.repo.issue(ignored)!.state, 'ignored');
      assert.equal(t.analysis.repo.issue(busy)!.state, 'new');
      const h = t.analysis.repo.history(quiet).at(-1)!;
      assert.equal(h.actor, 'system');
      assert.match(h.note ?? '', /auto-resolved/);
      // ...and a recurrence after the auto-resolution is a regression.
      t.clock.advanceHours(1);
      t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms }));
      assert.equal(t.analysis.repo.issue(quiet)!.state, 'regressed');
    } finally {
      await t.close();
    }
  });

  void it('sweep() deletes error records past MDSO_ERROR_RETENTION_DAYS but keeps the issue and its count', async () => {
    const t = newAnalysis({ config: { errorRetentionDays: 2, issueAutoResolveHours: 24 * 365 } });
    try {
      const old = t.analysis.recordFailure(traceFailure(BPO, { occurredAtMs: t.clock.ms }));
      t.clock.advanceHours(72);
      const recent = t.analysis.recordFailure(traceFailure(BPO, { resourceId: 'r-recent', occurredAtMs: t.clock.ms }));
      assert.equal(old.issueId, recent.issueId);
      t.analysis.sweep();
      const ids = (t.db.prepare('SELECT id FROM mdso_errors').all() as { id: string }[]).map(r => r.id);
      assert.deepEqual(ids, [recent.errorId]);
      assert.equal(t.analysis.repo.issue(recent.issueId)!.count, 2);
    } finally {
      await t.close();
    }
  });

  void it('uncategorised errors group by their masked template across devices and circuits', async () => {
    const t = newAnalysis();
    try {
      const a = t.analysis.recordFailure(traceFailure('Flux capacitor empty on AUSDTXIR2CW port ge-0/0/1 (10.1.1.1)'));
      const b = t.analysis.recordFailure(traceFailure('Flux capacitor empty on NYCMNYZR1AW port xe-1/2/0 (10.9.9.9)'));
      const c = t.analysis.recordFailure(traceFailure('Warp core breach on AUSDTXIR2CW'));
      assert.equal(a.defectCode, null);
      assert.equal(a.issueId, b.issueId);
      assert.notEqual(a.issueId, c.issueId);
      const issue = t.analysis.repo.issue(a.issueId)!;
      assert.equal(issue.template, 'Flux capacitor empty on <TID> port <PORT> (<IP>) - PeServiceProvisioner');
      assert.match(issue.fingerprint, /^g1:template:/);
    } finally {
      await t.close();
    }
  });

  void it('mdso_errors_total and mdso_open_issues reflect recordings', async () => {
    const t = newAnalysis();
    try {
      const { issueId } = t.analysis.recordFailure(traceFailure(BPO));
      t.analysis.recordFailure(traceFailure('never seen text'));
      t.analysis.updateIssue(issueId, { state: 'acknowledged' });
      const text = await t.registry.metrics();
      assert.match(text, /mdso_errors_total\{product="ServiceMapper",defect_code="DE-1301",system="MDSO"\} 1/);
      assert.match(text, /mdso_errors_total\{product="ServiceMapper",defect_code="uncategorized",system="unknown"\} 1/);
      assert.match(text, /mdso_open_issues\{state="new"\} 1/);
      assert.match(text, /mdso_open_issues\{state="acknowledged"\} 1/);
      assert.match(text, /mdso_open_issues\{state="regressed"\} 0/);
    } finally {
      await t.close();
    }
  });
});
