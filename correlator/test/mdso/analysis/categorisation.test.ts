import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalogueFile, SHIPPED_CATALOGUE_PATH } from '../../../src/mdso/analysis/catalogue/load.js';
import { categorise, categoriseLinear, nextFreeCode } from '../../../src/mdso/analysis/catalogue/match.js';
import { parseCatalogue } from '../../../src/mdso/analysis/catalogue/parse.js';
import { extractFailure } from '../../../src/mdso/analysis/extraction/extract.js';
import type { Catalogue } from '../../../src/mdso/analysis/catalogue/types.js';

function shipped(): Catalogue {
  const r = loadCatalogueFile(SHIPPED_CATALOGUE_PATH);
  if (!r.ok) assert.fail(`shipped catalogue refused: ${JSON.stringify(r.problems)}`);
  return r.catalogue;
}

const catalogue = shipped();

void describe('shipped catalogue: documented categorized-error formats (mdso-api.md §4.1)', () => {
  // Each text is what META's rule produces (categorized_error + " - <process>").
  const cases: Array<{ text: string; product?: string; code: string | null; system?: string }> = [
    { text: 'Granite | Incorrect Data - Required Topologies Data: IP 10.11.12.8/29 is not a network address - ServiceMapper', code: 'DE-1200', system: 'Granite' },
    { text: 'MDSO | Connectivity Error - Unreachable Live Device: device: AUSDTXIR2CW communication state: UNAVAILABLE equipment status: IN SERVICE - DeviceConnectivityCheck', code: 'DE-1001', system: 'MDSO' },
    { text: 'MDSO | Connectivity Error - Inactive State: device: NYCMNYZR1AW.DEV.CHTRSE.COM orchState: failed - PeDeviceOnboarder', code: 'DE-1003' },
    { text: 'Granite | Missing Data - Required Topologies Data: No network function found for fqdn DLLSTXZR0AW.CHTRSE.COM or ip 172.16.4.9 - ServiceDeviceValidator', code: 'DE-1201' },
    { text: 'MDSO | Incorrect Data - Required Topologies Data: Network Service already provisioned for circuit id: 80.L1XX.005054..CHTR, id: 5e0c7a5e-1c2d-4e8f-9a0b-1c2d3e4f5a6b - NetworkServicePreCheck', product: 'NetworkService', code: 'DE-1300' },
    { text: 'MDSO | System Error - Application Configuration: No active BPO Constants available - ServiceMapper', code: 'DE-1301', system: 'MDSO' },
    { text: 'MDSO | Automation Unsupported - Required Topologies Data: DEVICE ROLE MTU is INVALID for ADVA FSP 150-GE114PRO-C - CpeDeviceOnboarder', code: 'DE-1302' },
    { text: 'Unable to connect to device at 10.20.30.40', code: 'DE-1000', system: 'device' },
    { text: 'MDSO | Process Error - Exception Raised: class: networkservice.PeServiceProvisioner reason: Error: unsupported operand type(s) for +: \'NoneType\' and \'str\' - PeServiceProvisioner', code: 'DE-1400' },
    { text: 'MDSO | Process Error - Exception Raised: class: a.B reason: Error: something never seen before - B', code: 'DE-1409' },
    { text: 'MDSO | System Error - Resource Get: GET /bpocore/market/api/v1/resources?q=label:80.L1XX.005054..CHTR.cd returned 500 - CircuitDetailsCollector', code: 'DE-1310' },
    { text: 'MDSO | Process Error - Resource Create: POST /bpocore/market/api/v1/resources failed - ServiceMapper', code: 'DE-1311' },
    { text: 'Granite | Missing Data - Required Topologies Data: Network Neighbor missing for AUSDTXIR2CW - ServiceMapper', code: 'DE-1202' },
    { text: 'GRANITE DESIGN | Bad VLAN assignment', code: 'DE-1204' },
    { text: 'error: commit failed: (statements constraint check failed) configuration check-out failed', code: 'DE-1110' },
    { text: 'error: configuration database modified', code: 'DE-1119' },
    { text: 'commit failed: syntax error, expecting <data>', code: 'DE-1144' },
    { text: 'commit failed for a reason nobody listed', code: 'DE-1150' },
    { text: 'Port ge-0/0/3 not present on the device', product: 'PortActivation', code: 'DE-1320' },
    { text: 'Nothing in the catalogue looks like this 42', code: null },
  ];
  for (const c of cases) {
    void it(`${c.code ?? 'uncategorised'}: ${c.text.slice(0, 70)}`, () => {
      const m = categorise(catalogue, c.text, c.product ?? 'ServiceMapper');
      assert.equal(m?.rule.code ?? null, c.code);
      if (c.system) assert.equal(m?.rule.system, c.system);
    });
  }
});

void describe('shipped catalogue: texts extracted from resource reasons', () => {
  const cases: Array<{ name: string; reason: string; code: string | null }> = [
    {
      name: '2021 wrapper with child failure (Python NoneType operand)',
      reason:
        "Failed task:\n(1) activate: Failed plan 'activate'\n(exit code: 1):Error in scripts.managedServicesActivator.managedServicesActivator.Activate, Error: Resource 601b1a2a-f6ec-4f6e-bdc9-b7670f8a236c failed:\n\nFailed task:\n(1) activate: Failed plan 'activate'\n(exit code: 1):Error in scripts.CLIManager.CLIManager.Activate, Error: unsupported operand type(s) for +: 'NoneType' and 'str'.  Please check file: plan-script-601b1a2a-f6ec-4f6e-bdc9-b7670f8a236c-activate-2021-02-03T21:48:26.120Z\n\n{'autoClean': False}.  Please check file: plan-script-601b18fa-711d-43cc-9ac3-bbda276e2a23-activate-2021-02-03T21:43:22.365Z",
      code: 'DE-1400',
    },
    {
      name: '2023 wrapper with a categorised connectivity error',
      reason:
        "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in scripts.networkservice.PeServiceProvisioner, MDSO | Connectivity Error - Inactive State: device: AUSDTXIR2CW orchState: failed.  Please check file: plan-script-4f3e2d1c-0000-4000-8000-000000000001-activate-2023-05-01T10:00:00.000Z",
      code: 'DE-1003',
    },
    {
      name: '2023 wrapper with a KeyError',
      reason: "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in scripts.serviceMapper.ServiceMapper, Error: KeyError: 'Management IP'.  Please check file: plan-script-x",
      code: 'DE-1402',
    },
    {
      name: 'uncategorised reason',
      reason: "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in scripts.x.Y, the flux capacitor is empty.  Please check file: plan-script-x",
      code: null,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const ex = extractFailure({ resourceTypeId: 'charter.resourceTypes.ManagedServicesActivator', reason: c.reason, orchTrace: null });
      assert.equal(ex.rule, 'reason');
      assert.equal(categorise(catalogue, ex.text, 'ManagedServicesActivator')?.rule.code ?? null, c.code);
    });
  }
});

const SCOPED = `version: "t1"
rules:
  - code: DE-2000
    title: Only for cpeActivator
    category: Process Error
    system: device
    products: [cpeActivator]
    severity: minor
    team: T
    runbook: https://example.invalid/a
    patterns: ['widget failed']
  - code: DE-2001
    title: Generic widget
    category: Process Error
    system: MDSO
    severity: minor
    team: T
    runbook: https://example.invalid/b
    patterns: ['widget', 'gadget']
  - code: DE-2002
    title: Never reached for widgets
    category: Process Error
    system: MDSO
    severity: minor
    team: T
    runbook: https://example.invalid/c
    patterns: ['widget failed']
  - code: DE-2003
    title: Pathological
    category: Process Error
    system: MDSO
    severity: minor
    team: T
    runbook: https://example.invalid/d
    patterns: ['(a+)+$']
`;

void describe('matching semantics', () => {
  const r = parseCatalogue(SCOPED);
  if (!r.ok) assert.fail(JSON.stringify(r.problems));
  const cat = r.catalogue;

  void it('a product-scoped rule applies to its product', () => {
    const m = categorise(cat, 'widget failed', 'cpeActivator');
    assert.equal(m?.rule.code, 'DE-2000');
  });
  void it('a product-scoped rule is skipped for other products; first match after it wins', () => {
    const m = categorise(cat, 'widget failed', 'ServiceMapper');
    assert.equal(m?.rule.code, 'DE-2001');
    assert.equal(m?.ruleIndex, 1);
  });
  void it('reports which pattern of the rule matched', () => {
    assert.equal(categorise(cat, 'the gadget broke', 'ServiceMapper')?.patternIndex, 1);
  });
  void it('empty text never matches', () => {
    assert.equal(categorise(cat, '', 'ServiceMapper'), null);
  });
  void it('a pathological pattern runs in linear time and answers correctly', () => {
    const long = `${'a'.repeat(100_000)}!`;
    assert.equal(categorise(cat, long, 'ServiceMapper'), null);
    assert.equal(categorise(cat, 'a'.repeat(100_000), 'ServiceMapper')?.rule.code, 'DE-2003');
  });
  void it('next free code follows the highest code in use', () => {
    assert.equal(nextFreeCode(cat), 'DE-2004');
    assert.equal(nextFreeCode(cat, ['DE-2010']), 'DE-2011');
    assert.equal(nextFreeCode(catalogue), 'DE-1511');
  });
});

void describe('rule-tree search agrees with the plain first-match loop', () => {
  const rules = [
    ['DE-5000', 'alpha', '[cpeActivator]'],
    ['DE-5001', '(?i)ALPHA beta', ''],
    ['DE-5002', '^gamma', ''],
    ['DE-5003', '\\Qdelta(', ''],
    ['DE-5004', 'alpha', ''],
    ['DE-5005', 'eps[0-9]+lon', '[NetworkService, ServiceMapper]'],
    ['DE-5006', 'x', ''],
  ];
  const yaml = `version: "eq"\nrules:\n${rules
    .map(([code, pat, products]) => `  - code: ${code}\n    title: t\n    category: c\n    system: MDSO\n${products ? `    products: ${products}\n` : ''}    severity: info\n    team: t\n    runbook: https://e.invalid/\n    patterns: ['${pat}']\n`)
    .join('')}`;
  const r = parseCatalogue(yaml);
  if (!r.ok) assert.fail(JSON.stringify(r.problems));
  const cat = r.catalogue;
  const texts = ['alpha', 'Alpha Beta', 'xx gamma', 'gamma x', 'delta(', 'eps42lon', 'nothing', '', 'alpha beta gamma delta( eps1lon x'];
  const products = ['cpeActivator', 'ServiceMapper', 'NetworkService', 'Other'];
  for (const text of texts) {
    for (const product of products) {
      void it(`"${text}" / ${product}`, () => {
        const a = categorise(cat, text, product);
        const b = categoriseLinear(cat, text, product);
        assert.deepEqual(a && [a.rule.code, a.ruleIndex, a.patternIndex], b && [b.rule.code, b.ruleIndex, b.patternIndex]);
      });
    }
  }
  void it('spot checks: scope skipped, later rule wins', () => {
    assert.equal(categorise(cat, 'alpha', 'ServiceMapper')?.rule.code, 'DE-5004');
    assert.equal(categorise(cat, 'alpha', 'cpeActivator')?.rule.code, 'DE-5000');
    assert.equal(categorise(cat, 'delta(', 'x')?.rule.code, 'DE-5003');
  });
});
