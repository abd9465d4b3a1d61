import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metaRule, statusUpdaterRule, processToken } from '../../../src/mdso/analysis/extraction/trace-rules.js';
import { parseReason } from '../../../src/mdso/analysis/extraction/reason.js';
import { extractFailure } from '../../../src/mdso/analysis/extraction/extract.js';
import type { OrchTraceEntry } from '../../../src/mdso/analysis/index.js';

const NS = 'charter.resourceTypes.NetworkService';
const SM = 'charter.resourceTypes.ServiceMapper';
const CONN = 'tosca.resourceTypes.ConnectivityCheck';

const started = (process: string): OrchTraceEntry => ({ process, state: 'STARTED', message: 'STARTED PROCESSING' });
const completed = (process: string): OrchTraceEntry => ({ process, state: 'COMPLETED', message: 'Completed successfully' });
const failed = (process: string, categorized_error?: string, resource_type?: string): OrchTraceEntry => ({
  process,
  state: 'FAILED',
  message: `Error in ${process}, x.  Please check file: plan-script-x`,
  ...(categorized_error !== undefined ? { categorized_error } : {}),
  ...(resource_type ? { resource_type } : {}),
});

void describe("META's failing-step rule", () => {
  const cases: Array<{ name: string; type: string; entries: OrchTraceEntry[]; want: string | null; index?: number }> = [
    {
      name: 'first entry with a categorized_error, process class appended',
      type: SM,
      entries: [started('servicemapper.ServiceMapper'), failed('servicemapper.ServiceMapper', 'MDSO | Missing Data - Resource Get: no CD')],
      want: 'MDSO | Missing Data - Resource Get: no CD - ServiceMapper',
      index: 1,
    },
    {
      name: 'skips ConnectivityCheck entries for a NetworkService',
      type: NS,
      entries: [
        failed('connectivitycheck.DeviceConnectivityCheck', 'MDSO | Connectivity Error - Unreachable Live Device: device: AUSDTXIR2CW communication state: UNAVAILABLE equipment status: IN SERVICE', CONN),
        failed('networkservice.PeServiceProvisioner', 'Granite | Missing Data - Required Topologies Data: no PE'),
      ],
      want: 'Granite | Missing Data - Required Topologies Data: no PE - PeServiceProvisioner',
      index: 1,
    },
    {
      name: 'keeps ConnectivityCheck entries for other products',
      type: SM,
      entries: [failed('connectivitycheck.DeviceConnectivityCheck', 'MDSO | Connectivity Error - Inactive State: device: X orchState: failed', CONN)],
      want: 'MDSO | Connectivity Error - Inactive State: device: X orchState: failed - DeviceConnectivityCheck',
      index: 0,
    },
    {
      name: 'newlines dropped, double quotes to single, carets to spaces',
      type: SM,
      entries: [failed('a.B', 'line1\nline2 "quoted" ^caret')],
      want: "line1line2 'quoted'  caret - B",
    },
    {
      name: 'truncated to 500 characters before the process token',
      type: SM,
      entries: [failed('a.B', 'x'.repeat(800))],
      want: `${'x'.repeat(500)} - B`,
    },
    { name: 'no categorized_error anywhere', type: SM, entries: [started('a.B'), failed('a.B')], want: null },
    { name: 'empty trace', type: SM, entries: [], want: null },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = metaRule(c.entries, c.type);
      assert.equal(got?.text ?? null, c.want);
      if (c.index !== undefined) assert.equal(got?.entryIndex, c.index);
      if (got) assert.equal(got.rule, 'meta');
    });
  }
});

void describe("StatusUpdater's failing-step rule", () => {
  const cases: Array<{ name: string; entries: OrchTraceEntry[]; want: string | null }> = [
    {
      name: 'first entry not STARTED/COMPLETED, first 150 chars',
      entries: [started('a.B'), completed('a.B'), failed('a.C', `MDSO | System Error - ${'y'.repeat(300)}`)],
      want: `MDSO | System Error - ${'y'.repeat(300)}`.slice(0, 150),
    },
    {
      name: 'skips processes containing deviceconnectivitycheck (any case)',
      entries: [failed('connectivity.DeviceConnectivityCheck', 'conn'), failed('ns.PeServiceProvisioner', 'pe failed')],
      want: 'pe failed',
    },
    {
      name: 'stops at the first failing entry even without a categorized_error',
      entries: [failed('a.B'), failed('a.C', 'later')],
      want: null,
    },
    { name: 'all steps completed', entries: [started('a.B'), completed('a.B')], want: null },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = statusUpdaterRule(c.entries);
      assert.equal(got?.text ?? null, c.want);
      if (got) assert.equal(got.rule, 'status_updater');
    });
  }

  void it('differs from META when the first categorised entry is a connectivity check of a non-NetworkService', () => {
    const entries = [failed('x.DeviceConnectivityCheck', 'conn error', CONN), failed('y.Provisioner', 'prov error')];
    assert.equal(metaRule(entries, SM)?.text, 'conn error - DeviceConnectivityCheck');
    assert.equal(statusUpdaterRule(entries)?.text, 'prov error');
  });
});

void describe('processToken', () => {
  for (const [input, want] of [
    ['networkservice.PeServiceProvisioner', 'PeServiceProvisioner'],
    ['Single', 'Single'],
    ['', ''],
    [undefined, ''],
  ] as const) {
    void it(`${String(input)} → "${want}"`, () => assert.equal(processToken(input), want));
  }
});

const REASON_2021 =
  "Failed task:\n(1) activate: Failed plan 'activate'\n(exit code: 1):Error in scripts.managedServicesActivator.managedServicesActivator.Activate, Error: Resource 601b1a2a-f6ec-4f6e-bdc9-b7670f8a236c failed:\n\nFailed task:\n(1) activate: Failed plan 'activate'\n(exit code: 1):Error in scripts.CLIManager.CLIManager.Activate, Error: unsupported operand type(s) for +: 'NoneType' and 'str'.  Please check file: plan-script-601b1a2a-f6ec-4f6e-bdc9-b7670f8a236c-activate-2021-02-03T21:48:26.120Z\n\n{'autoClean': False, 'resourceTypeId': 'charter.resourceTypes.CLIManager'}.  Please check file: plan-script-601b18fa-711d-43cc-9ac3-bbda276e2a23-activate-2021-02-03T21:43:22.365Z";
const REASON_2023 =
  "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in scripts.networkservice.PeServiceProvisioner, MDSO | Connectivity Error - Inactive State: device: AUSDTXIR2CW.DEV.CHTRSE.COM orchState: failed.  Please check file: plan-script-4f3e2d1c-0000-4000-8000-000000000001-activate-2023-05-01T10:00:00.000Z";
const REASON_2021_SIMPLE =
  "Failed task:\n(1) activate: Failed plan 'activate'\n(exit code: 1):Error in scripts.serviceMapper.ServiceMapper, Granite | Missing Data - Required Topologies Data: No network function found for fqdn NYCMNYZR1AW.CHTRSE.COM or ip 10.1.2.3.  Please check file: plan-script-4f3e2d1c-0000-4000-8000-000000000002-activate-2021-06-01T10:00:00.000Z";

void describe('reason parsing (Beorn/Palantir)', () => {
  const cases: Array<{ name: string; reason: string; message: string; script: string | null; child: boolean; wrapper: '2021' | '2023' | null }> = [
    {
      name: '2021 wrapper with a child failure: innermost script and message',
      reason: REASON_2021,
      message: "unsupported operand type(s) for +: 'NoneType' and 'str'",
      script: 'scripts.CLIManager.CLIManager.Activate',
      child: true,
      wrapper: '2021',
    },
    {
      name: '2023 wrapper (newlines stripped)',
      reason: REASON_2023,
      message: 'MDSO | Connectivity Error - Inactive State: device: AUSDTXIR2CW.DEV.CHTRSE.COM orchState: failed',
      script: 'scripts.networkservice.PeServiceProvisioner',
      child: false,
      wrapper: '2023',
    },
    {
      name: '2021 wrapper, categorised error in the message',
      reason: REASON_2021_SIMPLE,
      message: 'Granite | Missing Data - Required Topologies Data: No network function found for fqdn NYCMNYZR1AW.CHTRSE.COM or ip 10.1.2.3',
      script: 'scripts.serviceMapper.ServiceMapper',
      child: false,
      wrapper: '2021',
    },
    {
      name: 'no wrapper, no script: the text itself',
      reason: 'Unable to connect to device at 10.20.30.40',
      message: 'Unable to connect to device at 10.20.30.40',
      script: null,
      child: false,
      wrapper: null,
    },
    {
      name: 'wrapper without a script token keeps what follows the exit code',
      reason: "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Timed out while waiting for: device prompt",
      message: 'Timed out while waiting for: device prompt',
      script: null,
      child: false,
      wrapper: '2023',
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = parseReason(c.reason);
      assert.equal(got.message, c.message);
      assert.equal(got.failingScript, c.script);
      assert.equal(got.childFailure, c.child);
      assert.equal(got.wrapper, c.wrapper);
    });
  }
});

void describe('extractFailure: source precedence', () => {
  const trace = { traceLogId: 't', startTimeSec: 1, entries: [failed('ns.PeServiceProvisioner', 'from trace')] };
  const cases: Array<{ name: string; input: Parameters<typeof extractFailure>[0]; rule: string; text: string; step: string | null }> = [
    {
      name: 'TraceLog wins over properties and reason',
      input: { resourceTypeId: NS, reason: REASON_2023, orchTrace: trace, properties: { network_service_error: 'prop' } },
      rule: 'meta',
      text: 'from trace - PeServiceProvisioner',
      step: 'ns.PeServiceProvisioner',
    },
    {
      name: 'a failing entry without categorized_error yields no trace text; nothing else either',
      input: {
        resourceTypeId: SM,
        reason: '',
        orchTrace: { traceLogId: 't', startTimeSec: 1, entries: [started('a.B'), { process: 'a.C', state: 'FAILED' }] },
      },
      rule: 'none',
      text: '',
      step: null,
    },
    {
      name: 'no TraceLog: network_service_error property',
      input: { resourceTypeId: NS, reason: REASON_2023, orchTrace: null, properties: { network_service_error: 'Granite | Incorrect Data - x' } },
      rule: 'network_service_error',
      text: 'Granite | Incorrect Data - x',
      step: 'scripts.networkservice.PeServiceProvisioner',
    },
    {
      name: 'no TraceLog: cpe_activation_error property',
      input: { resourceTypeId: 'charter.resourceTypes.cpeActivator', reason: '', orchTrace: null, properties: { cpe_activation_error: 'Firmware validation failed' } },
      rule: 'cpe_activation_error',
      text: 'Firmware validation failed',
      step: null,
    },
    {
      name: 'no TraceLog, no property: parsed reason',
      input: { resourceTypeId: SM, reason: REASON_2021, orchTrace: null },
      rule: 'reason',
      text: "unsupported operand type(s) for +: 'NoneType' and 'str'",
      step: 'scripts.CLIManager.CLIManager.Activate',
    },
    { name: 'nothing at all', input: { resourceTypeId: SM, reason: '', orchTrace: null }, rule: 'none', text: '', step: null },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = extractFailure(c.input);
      assert.equal(got.rule, c.rule);
      assert.equal(got.text, c.text);
      assert.equal(got.failingStep, c.step);
    });
  }

  void it('keeps StatusUpdater text beside META text when they differ', () => {
    const entries = [failed('x.DeviceConnectivityCheck', 'conn error', CONN), failed('y.Provisioner', 'prov error')];
    const got = extractFailure({ resourceTypeId: SM, reason: '', orchTrace: { traceLogId: 't', startTimeSec: 1, entries } });
    assert.equal(got.rule, 'meta');
    assert.equal(got.statusUpdaterText, 'prov error');
  });

  void it('uses StatusUpdater rule when only it finds a text', () => {
    // META needs categorized_error on the entry; StatusUpdater too, so craft a trace where META skips
    // the only categorised entry (NetworkService ConnectivityCheck) but StatusUpdater does not.
    const entries = [failed('ns.ConnCheckWrapper', 'only via status updater', CONN)];
    const got = extractFailure({ resourceTypeId: NS, reason: '', orchTrace: { traceLogId: 't', startTimeSec: 1, entries } });
    assert.equal(got.rule, 'status_updater');
    assert.equal(got.text, 'only via status updater');
  });
});
