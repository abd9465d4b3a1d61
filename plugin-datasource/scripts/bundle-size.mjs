// Prints the size of the built bundle so regressions show up in build logs (goal: module.js < 250 KB).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const GOAL_KB = 250;
const kb = (bytes) => (bytes / 1024).toFixed(1);

const moduleBytes = statSync(join(dist, 'module.js')).size;
const jsBytes = readdirSync(dist)
  .filter((name) => name.endsWith('.js'))
  .reduce((sum, name) => sum + statSync(join(dist, name)).size, 0);

console.log(`bundle-size: module.js ${kb(moduleBytes)} KB (goal < ${GOAL_KB} KB), all dist/*.js ${kb(jsBytes)} KB`);
if (moduleBytes > GOAL_KB * 1024) {
  console.log(`bundle-size: WARNING module.js is over the ${GOAL_KB} KB goal`);
}
