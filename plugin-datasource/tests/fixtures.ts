import { test as base } from '@grafana/plugin-e2e';
import { demoCircuit, loadDemoCircuit, type DemoCircuit } from '../src/integration/demoCircuit';

/** The correlator as seen from the machine running Playwright (Grafana reaches it through its proxy). */
export const CORRELATOR_URL = process.env.CORRELATOR_URL_FROM_TESTS ?? 'http://localhost:8080';
export const DATASOURCE_FILE = 'datasources.yml';

/** Adds `demo`: a circuit beorn → mdso → arda posted to the correlator once per worker. */
export const test = base.extend<{}, { demo: DemoCircuit }>({
  demo: [
    async ({}, use) => {
      const demo = demoCircuit();
      await loadDemoCircuit(CORRELATOR_URL, demo, Date.now() - 60_000);
      await use(demo);
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@grafana/plugin-e2e';

/** Matches the requests the datasource makes through Grafana's data proxy. */
export const isProxyResponse = (response: { url(): string }) => response.url().includes('/api/datasources/proxy/');
