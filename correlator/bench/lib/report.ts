// What every bench prints: the machine and conditions first, then one FIGURE line per measured
// number, which bench/run.ts collects into its summary table. Benches print figures; they never
// assert, so a slow machine yields numbers to compare, not a red build.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export type Goal = { op: '>=' | '<=' | '<' | '>'; value: number };

/**
 * `FIGURE <name> <value> <unit> [goal <op><number>]`: the name has no spaces, the unit is one token,
 * the goal (optional) is a comparison the runner can check.
 */
export function figure(name: string, value: number, unit: string, goal?: Goal): void {
  const v = Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value.toPrecision(4);
  console.log(`FIGURE ${name} ${v} ${unit}${goal ? ` goal ${goal.op}${goal.value}` : ''}`);
}

export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model.trim() ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${process.platform}/${process.arch}`;
}

export function heading(title: string, conditions: string): void {
  console.log(`\n== ${title}`);
  console.log(`machine: ${machine()}`);
  console.log(`conditions: ${conditions}`);
}

export function percentile(sortedAsc: readonly number[], p: number): number {
  if (sortedAsc.length === 0) return NaN;
  const i = Math.min(sortedAsc.length - 1, Math.max(0, Math.ceil((p / 100) * sortedAsc.length) - 1));
  return sortedAsc[i]!;
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  g();
  g();
}

/**
 * CPU time of the calling (main) thread in microseconds, from /proc on Linux; null elsewhere.
 * process.cpuUsage() also counts the GC's helper threads, which is real cost but hides whether the
 * code itself or the collector grew.
 */
export function mainThreadCpuUs(): number | null {
  const ns = threadCpuNs(process.pid);
  return ns === null ? null : ns / 1000;
}

/**
 * A thread's CPU time in nanoseconds: from schedstat, whose first field is the time the thread
 * ran in ns, or else from stat's utime and stime in clock ticks (10 ms on Linux). In ticks, a
 * round of the correlation bench (~40 ms of main-thread CPU) was 4 to 6 ticks, so its per-span
 * figure moved by a quarter with nothing but rounding. Null where /proc has neither.
 */
export function threadCpuNs(tid: number): number | null {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    // no schedstat (kernel without CONFIG_SCHED_INFO): fall back to ticks
  }
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line.
    return (Number(fields[11]) + Number(fields[12])) * 10_000_000;
  } catch {
    return null;
  }
}

/**
 * Time the hypervisor gave this machine's CPUs to others, from /proc/stat (Linux guests; null
 * elsewhere), in CPU-seconds. On a shared VM it varied from under 1% to over 20% of the CPUs within
 * an hour, and wall-clock figures moved with it, so the runner prints it beside each bench.
 */
export function stealCpuSeconds(): number | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    // cpu user nice system idle iowait irq softirq steal ...: clock ticks, 100 per second.
    const steal = Number(cpu[8]);
    return cpu[0] === 'cpu' && Number.isFinite(steal) ? steal / 100 : null;
  } catch {
    return null;
  }
}
