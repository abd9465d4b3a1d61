// Parsing of a failed resource's `reason` (mdso-api.md §3.1), the fallback when no TraceLog exists.
// Follows Beorn (cut at the first plan-script file reference) and Palantir (failing script = last
// `scripts.` token, message = what follows it), without Palantir's upper-casing so that the text stays
// readable and catalogue patterns see the original case.

export interface ParsedReason {
  /** the error message of the innermost failing script, cleaned up */
  message: string;
  /** e.g. "scripts.CLIManager.CLIManager.Activate", null when the reason names none */
  failingScript: string | null;
  /** true when the reason wraps a child resource's failure */
  childFailure: boolean;
  /** "2021" (newline form), "2023" (newlines stripped) or null when no Blue Planet wrapper was found */
  wrapper: '2021' | '2023' | null;
}

const CHECK_FILE_MARK = 'Please check file: plan-script';
const SCRIPT_TOKEN = /scripts\.[A-Za-z0-9_.]+/g;
const CHILD_FAILURE = /Error: Resource [0-9a-fA-F-]{8,} failed:/;

function wrapperOf(reason: string): ParsedReason['wrapper'] {
  if (/Failed task:\s*\n\(\d+\)/.test(reason) || /\n\(exit code: \d+\):/.test(reason)) return '2021';
  if (/Failed task:\s*\(\d+\)/.test(reason)) return '2023';
  return null;
}

function clean(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/"/g, "'")
    .replace(/ {2,}/g, ' ')
    .trim()
    .replace(/[.\s]+$/, '');
}

export function parseReason(reason: string): ParsedReason {
  const wrapper = wrapperOf(reason);
  const childFailure = CHILD_FAILURE.test(reason);
  const cutAt = reason.indexOf(CHECK_FILE_MARK);
  const head = cutAt >= 0 ? reason.slice(0, cutAt) : reason;

  let failingScript: string | null = null;
  let afterScript = -1;
  for (const m of head.matchAll(SCRIPT_TOKEN)) {
    failingScript = m[0].replace(/\.+$/, '');
    afterScript = (m.index ?? 0) + m[0].length;
  }

  let message: string;
  if (afterScript >= 0) {
    message = head.slice(afterScript).replace(/^\s*,\s*/, '').replace(/^Error:\s*/, '');
  } else {
    // Without a script token the wrapper itself is noise: keep what follows the last exit code.
    const exit = [...head.matchAll(/\(exit code: \d+\):/g)].pop();
    message = exit ? head.slice((exit.index ?? 0) + exit[0].length) : head;
  }
  return { message: clean(message), failingScript, childFailure, wrapper };
}
