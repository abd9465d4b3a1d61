import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RE2JS } from 're2js';
import { maskVolatile } from '../../../src/mdso/analysis/grouping/mask.js';
import { drainCluster, type DrainInput } from '../../../src/mdso/analysis/grouping/drain.js';
import { patternFromTemplate, suggestRule } from '../../../src/mdso/analysis/grouping/suggest.js';
import { parseCatalogue } from '../../../src/mdso/analysis/catalogue/parse.js';

void describe('maskVolatile', () => {
  const cases: Array<[string, string]> = [
    ['device AUSDTXIR2CW down', 'device <TID> down'],
    ['circuit 80.L1XX.005054..CHTR and 51.KGFD.000001..TWCC', 'circuit <CIRCUIT> and <CIRCUIT>'],
    ['host nycmnyzr1aw.dev.chtrse.com unreachable', 'host <FQDN> unreachable'],
    ['ip 10.11.12.8/29 and 2001:db8::1', 'ip <IP> and <IP>'],
    ['id 5e0c7a5e-1c2d-4e8f-9a0b-1c2d3e4f5a6b at 2026-11-20T10:00:00.123Z', 'id <UUID> at <TS>'],
    ['ports ge-0/0/1, xe-1/2/0.100 and et-0/0/48', 'ports <PORT>, <PORT> and <PORT>'],
    ['ports GigabitEthernet0/0/1, TenGigE0/1/0/3 and Bundle-Ether12.100', 'ports <PORT>, <PORT> and <PORT>'],
    ['vlan 1200 on revision 13194144224898', 'vlan <NUM> on revision <NUM>'],
    ['check plan-script-601b18fa-711d-43cc-9ac3-bbda276e2a23-activate-2021-02-03T21:43:22.365Z', 'check <LOGFILE>'],
    ['mac 00:1a:2b:3c:4d:5e seen', 'mac <MAC> seen'],
    ['  spaced\n\tout  ', 'spaced out'],
  ];
  for (const [input, want] of cases) void it(input.trim(), () => assert.equal(maskVolatile(input), want));
});

function input(text: string, over: Partial<DrainInput> = {}): DrainInput {
  return { template: maskVolatile(text), examples: [text], count: 1, firstSeenMs: 1, lastSeenMs: 1, product: 'ServiceMapper', ...over };
}

void describe('drainCluster', () => {
  void it('merges templates that differ in a few words and keeps distinct ones apart', () => {
    const clusters = drainCluster([
      input('Flux capacitor empty on AUSDTXIR2CW slot alpha'),
      input('Flux capacitor empty on NYCMNYZR1AW slot beta', { count: 2, lastSeenMs: 5 }),
      input('Flux capacitor empty on NYCMNYZR1AW slot gamma', { product: 'NetworkService' }),
      input('Warp core breach detected'),
    ]);
    assert.equal(clusters.length, 2);
    const flux = clusters[0]!;
    assert.equal(flux.template, 'Flux capacitor empty on <TID> slot <*>');
    assert.equal(flux.count, 4);
    assert.equal(flux.lastSeenMs, 5);
    assert.deepEqual(flux.products, ['ServiceMapper', 'NetworkService']);
    assert.equal(clusters[1]!.template, 'Warp core breach detected');
  });

  void it('keeps a bounded number of examples', () => {
    const many = Array.from({ length: 10 }, (_, i) => input(`Widget ${'abcdefghij'[i]} exploded loudly`));
    const [c] = drainCluster(many, { maxExamples: 3 });
    assert.equal(c!.count, 10);
    assert.equal(c!.examples.length, 3);
  });

  void it('texts of different lengths never merge', () => {
    assert.equal(drainCluster([input('a b c'), input('a b c d')]).length, 2);
  });
});

void describe('suggested rules', () => {
  void it('the pattern matches every example, is valid RE2 and pastes into a valid catalogue', () => {
    const examples = [
      'Flux capacitor empty on AUSDTXIR2CW port ge-0/0/1 (10.1.1.1) - PeServiceProvisioner',
      'Flux capacitor empty on NYCMNYZR1AW port xe-1/2/0 (10.9.9.9) - PeServiceProvisioner',
    ];
    const template = maskVolatile(examples[0]!);
    const s = suggestRule('DE-1511', template, examples, 'ServiceMapper');
    assert.equal(s.verified, true);
    const re = RE2JS.compile(s.pattern);
    for (const e of examples) assert.ok(re.test(e), `${s.pattern} should match ${e}`);
    assert.equal(re.test('Warp core breach'), false);
    const r = parseCatalogue(`version: "s"\nrules:\n${s.yaml.replace(/^/gm, '  ').trimEnd()}\n`);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    if (r.ok) assert.equal(r.catalogue.rules[0]!.code, 'DE-1511');
  });

  void it('regex metacharacters in the text are quoted', () => {
    const text = "unsupported operand type(s) for +: 'int' and [list] {x}";
    const s = suggestRule('DE-2000', maskVolatile(text), [text], null);
    assert.equal(s.verified, true);
    assert.ok(RE2JS.compile(s.pattern).test(text), 'RE2JS.compile(s.pattern).test(text)');
    assert.equal(RE2JS.compile(s.pattern).test('unsupported operand types for : int and list x'), false);
  });

  void it('falls back to a literal run when the full template does not match its examples', () => {
    // "vlan-100" masks to "vlan <NUM>" (a space the original lacks), so the full pattern fails.
    const text = 'Cannot bind vlan-100 because the pool is exhausted';
    const s = suggestRule('DE-2000', maskVolatile(text), [text], null);
    assert.equal(s.verified, true);
    assert.ok(RE2JS.compile(s.pattern).test(text), 'RE2JS.compile(s.pattern).test(text)');
  });

  void it('patternFromTemplate wildcards placeholders between quoted literals', () => {
    assert.equal(patternFromTemplate('device <TID> is down'), 'device\\s+.*?\\s+is\\s+down');
  });
});
