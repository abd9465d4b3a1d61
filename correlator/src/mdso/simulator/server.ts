// `npm run mdso-sim`: the simulator's only listener.
import { loadSimulatorConfig } from '../../config/config.js';
import { buildSimulator } from './app.js';

const config = loadSimulatorConfig();
const app = await buildSimulator({
  seed: config.seed,
  resourcesPerProduct: config.resourcesPerProduct,
  failureRate: config.failureRate,
  tokenTtlSeconds: config.tokenTtlSeconds,
  logger: true,
});
await app.listen({ port: config.port, host: config.host });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
