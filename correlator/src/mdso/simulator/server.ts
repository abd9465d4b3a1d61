// `npm run mdso-sim`: the simulator's only listener. Invalid settings stop it as they stop the
// correlator: one line naming the setting, exit code 2, no stack trace.
import { ConfigError, loadSimulatorConfig, type SimulatorConfig } from '../../config/config.js';
import { buildSimulator } from './app.js';

let config: Readonly<SimulatorConfig>;
try {
  config = loadSimulatorConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`mdso-sim: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
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
