// A full garbage collection on demand. V8 collects when allocation asks it to, and a process that
// refuses ingest allocates little: hot state evicted under heap pressure stayed garbage, and the
// heap was judged full and ingest refused, for 30 s and more. Node offers no collection without
// --expose-gc; set now, the flag gives `gc` to contexts made from then on, so one is made for it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}
