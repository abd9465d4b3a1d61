// The log-body patterns (LOG_KEY_PATTERNS) are the operator's, and they run over text any sender
// writes. JavaScript's engine backtracks: a pattern like ^(a+)+$ took 31 s for 32 characters of
// one log line, and the event loop, /health included, waited. V8 can finish such a match in linear
// time instead, on its breadth-first engine, once a match has backtracked too long; it keeps
// backtracking, which is 50 to 600 times faster on ordinary lines, for every other match. That
// engine cannot run every pattern (lookarounds, backreferences, repeats bounded over 16, case
// folding), and a pattern it cannot run would still backtrack for ever: those are refused when the
// configuration is read (linearTimeProblem).
import { setFlagsFromString } from 'node:v8';

// Process-wide and read at each match, so matches of patterns compiled before are covered too. The
// first flag lets a pattern be compiled for the linear engine, which is how linearTimeProblem asks.
setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Why V8's linear-time engine cannot run `pattern` (a valid one), or null when it can. */
export function linearTimeProblem(pattern: string): string | null {
  try {
    new RegExp(pattern, 'l');
    return null;
  } catch {
    return (
      'cannot be run in linear time, so one log line could stall ingest for minutes; lookarounds, ' +
      'backreferences and repeats bounded over 16 ({1,64}: write + or {1,16}) are what it cannot take'
    );
  }
}

/** A configured pattern as matches run it: backtracking, with the linear-time fallback above. */
export function compileLogPattern(pattern: string): RegExp {
  // Global: every value a line names is read (log-keys.ts), each match going on from the last.
  return new RegExp(pattern, 'g');
}
