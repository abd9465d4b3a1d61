// `npm run demo`: sends demo circuits to a running correlator over OTLP/JSON.
import { buildDemoCircuit } from './demo-circuit.js';

async function main(): Promise<void> {
  const url = (process.argv[2] ?? process.env.CORRELATOR_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const now = Date.now();
  const circuits = [
    buildDemoCircuit('80.L1XX.005054..CHTR', now - 60_000),
    buildDemoCircuit('81.L1XX.000731..TWCC', now - 30_000, true),
  ];
  for (const c of circuits) {
    for (const [path, body] of [
      ['/v1/traces', c.traceRequest],
      ['/v1/logs', c.logRequest],
    ] as const) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    }
    console.log(`demo circuit ${c.circuitId}: ${url}/api/circuits/${encodeURIComponent(c.circuitId)}/trace`);
  }
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${(e as Error).message}`);
  process.exit(1);
});
