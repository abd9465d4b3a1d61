// `npm run demo [url]`: sends demo circuits to a running correlator over OTLP/JSON. The URL is the
// argument, CORRELATOR_URL or http://127.0.0.1:8080; credentials come from the correlator's own
// auth settings in the environment, or from user:password in the URL.
import { loadAuthConfig } from '../config/config.js';
import { demoTarget, sendDemo } from './send-demo.js';

async function main(): Promise<void> {
  const target = demoTarget(process.argv[2] ?? process.env.CORRELATOR_URL ?? 'http://127.0.0.1:8080', loadAuthConfig(process.env));
  await sendDemo(target, line => console.log(line));
}

main().catch((e: unknown) => {
  // No message here quotes a credential: demoTarget and loadAuthConfig never do.
  console.error(`demo failed: ${(e as Error).message}`);
  process.exit(1);
});
