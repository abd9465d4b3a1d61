// Categorisation throughput: error texts per second against a 200-rule catalogue (the shipped rules
// plus generated ones in the same style), and the full recording path into an in-memory store.
// Run: cd correlator && node --expose-gc --import tsx bench/categorisation.bench.ts
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/config.js';
import { categorise, categoriseLinear } from '../src/mdso/analysis/catalogue/match.js';
import { parseCatalogue } from '../src/mdso/analysis/catalogue/parse.js';
import { SHIPPED_CATALOGUE_PATH } from '../src/mdso/analysis/catalogue/load.js';
import { extractFailure } from '../src/mdso/analysis/extraction/extract.js';
import { maskVolatile } from '../src/mdso/analysis/grouping/mask.js';
import { MdsoAnalysis, type FailureInput } from '../src/mdso/analysis/index.js';

const RULES = 200;
const TEXTS = 20_000;

// Deterministic pseudo-random numbers so runs compare.
let seed = 42;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const SYSTEMS = ['MDSO', 'Granite', 'SEnSE'] as const;
const CATEGORIES = ['Connectivity Error', 'System Error', 'Incorrect Data', 'Missing Data', 'Process Error'];
const SUBJECTS = ['Required Topologies Data', 'Resource Get', 'Resource Create', 'Application Configuration', 'Device Config'];
const WORDS = ['vlan', 'evc', 'bandwidth', 'policer', 'loopback', 'lag', 'uplink', 'neighbor', 'firmware', 'profile', 'template', 'route'];

function generatedRule(i: number): string {
  const code = `DE-${2000 + i}`;
  const sys = pick(SYSTEMS);
  const cat = pick(CATEGORIES);
  const subj = pick(SUBJECTS);
  const w1 = `${pick(WORDS)}${i}`;
  const w2 = pick(WORDS);
  return `  - code: ${code}
    title: Generated ${i}
    category: ${cat}
    system: ${sys}
    severity: minor
    team: Bench
    runbook: https://runbooks.correlation-station.invalid/mdso/${code}
    patterns:
      - '${sys} \\| ${cat} - ${subj}: ${w1} \\S+ has no ${w2}'
      - '(?i)${w1} (?:missing|invalid) on [A-Z0-9]{10}W'
`;
}

const shippedText = readFileSync(SHIPPED_CATALOGUE_PATH, 'utf8');
const shipped = parseCatalogue(shippedText);
if (!shipped.ok) throw new Error('shipped catalogue refused');
const extra = RULES - shipped.catalogue.rules.length;
// Generated rules go first: a text matching a shipped rule then walks past all of them, the costly order.
const yaml = `version: "bench"\nrules:\n${Array.from({ length: extra }, (_, i) => generatedRule(i)).join('')}${shippedText.split('\nrules:\n')[1]}`;
const t0 = performance.now();
const parsed = parseCatalogue(yaml);
const parseMs = performance.now() - t0;
if (!parsed.ok) throw new Error(`bench catalogue refused: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
const catalogue = parsed.catalogue;

const tid = () => `${Array.from({ length: 10 }, () => pick([...'ABCDEFGHJKLMNPRSTUVWXYZ0123456789'])).join('')}W`;
const ip = () => `10.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`;
const cid = () => `${10 + Math.floor(rand() * 89)}.L1XX.${String(Math.floor(rand() * 999999)).padStart(6, '0')}..CHTR`;
const TEXT_MAKERS: Array<() => string> = [
  () => `MDSO | Connectivity Error - Unreachable Live Device: device: ${tid()} communication state: UNAVAILABLE equipment status: IN SERVICE - DeviceConnectivityCheck`,
  () => `Granite | Missing Data - Required Topologies Data: No network function found for fqdn ${tid()}.CHTRSE.COM or ip ${ip()} - ServiceDeviceValidator`,
  () => `MDSO | Incorrect Data - Required Topologies Data: Network Service already provisioned for circuit id: ${cid()}, id: x - NetworkServicePreCheck`,
  () => `Unable to connect to device at ${ip()}`,
  () => `MDSO | Process Error - Exception Raised: class: a.B reason: Error: unsupported operand type(s) for +: 'NoneType' and 'str' - B`,
  () => `${pick(WORDS)}${Math.floor(rand() * extra)} missing on ${tid()}`,
  () => `Something nobody has catalogued happened on ${tid()} at ${ip()} (${Math.floor(rand() * 1e6)})`,
];
const texts = Array.from({ length: TEXTS }, () => pick(TEXT_MAKERS)());

function measure(label: string, n: number, fn: () => void): void {
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  fn();
  const ms = performance.now() - start;
  console.log(`${label.padEnd(52)} ${String(Math.round((n / ms) * 1000)).padStart(9)} /s   (${n} in ${ms.toFixed(0)} ms)`);
}

console.log(`catalogue: ${catalogue.rules.length} rules, ${catalogue.rules.reduce((a, r) => a + r.patterns.length, 0)} patterns, parsed+compiled in ${parseMs.toFixed(1)} ms`);
let matched = 0;
// Warm-up pass: the rule tree is built on first use and RE2JS builds its DFAs lazily.
const tTree = performance.now();
categorise(catalogue, 'warm-up', 'ServiceMapper');
console.log(`rule tree built in ${(performance.now() - tTree).toFixed(1)} ms`);
for (const t of texts) categorise(catalogue, t, 'ServiceMapper');
for (const t of texts) categoriseLinear(catalogue, t, 'ServiceMapper');
measure('categorise, linear reference (one pattern at a time)', TEXTS, () => {
  for (const t of texts) categoriseLinear(catalogue, t, 'ServiceMapper');
});
measure('categorise (rule tree of pattern unions)', TEXTS, () => {
  for (const t of texts) if (categorise(catalogue, t, 'ServiceMapper')) matched++;
});
console.log(`  matched ${matched} of ${TEXTS} (${((matched / TEXTS) * 100).toFixed(1)}%)`);
measure('mask (template for grouping)', TEXTS, () => {
  for (const t of texts) maskVolatile(t);
});

const inputs: FailureInput[] = texts.map((text, i) => ({
  resourceId: `r-${i}`,
  resourceTypeId: 'charter.resourceTypes.ServiceMapper',
  product: 'ServiceMapper',
  label: cid(),
  circuitId: cid(),
  orchState: 'failed',
  reason: '',
  occurredAtMs: 1_700_000_000_000 + i * 1000,
  orchTrace: {
    traceLogId: `t-${i}`,
    startTimeSec: 1_700_000_000,
    entries: [
      { process: 'servicemapper.ServiceMapper', state: 'STARTED' },
      { process: 'servicemapper.ServiceMapper', state: 'FAILED', categorized_error: text },
    ],
  },
}));
measure('extract + categorise + mask', TEXTS, () => {
  for (const inp of inputs) {
    const ex = extractFailure(inp);
    categorise(catalogue, ex.text, inp.product);
    maskVolatile(ex.text);
  }
});

const db = new Database(':memory:');
const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child() { return silent; }, level: 'silent', silent() {} };
const analysis = new MdsoAnalysis({
  db,
  registry: new Registry(),
  logger: silent as never,
  config: loadConfig({}).mdso,
});
measure('recordFailure (shipped catalogue, SQLite :memory:)', TEXTS, () => {
  for (const inp of inputs) analysis.recordFailure(inp);
});
await analysis.close();
db.close();

const patho = parseCatalogue(`version: "p"\nrules:\n  - code: DE-9999\n    title: p\n    category: c\n    system: MDSO\n    severity: info\n    team: t\n    runbook: https://e.invalid/\n    patterns: ['(a+)+$']\n`);
if (!patho.ok) throw new Error('pathological catalogue refused');
for (const len of [10_000, 100_000, 1_000_000]) {
  const s = `${'a'.repeat(len)}!`;
  const start = performance.now();
  const m = categorise(patho.catalogue, s, 'x');
  console.log(`(a+)+$ on ${String(len).padStart(7)} a's + '!': ${(performance.now() - start).toFixed(1)} ms, match=${m !== null}`);
}
