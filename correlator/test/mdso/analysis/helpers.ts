// Shared test fixtures: a config, a logger that keeps what it was told, an analysis on :memory:.
import Database, { type Database as Db } from 'better-sqlite3';
import type { FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import { loadConfig, type MdsoConfig } from '../../../src/config/config.js';
import { MdsoAnalysis, type FailureInput, type OrchTraceEntry } from '../../../src/mdso/analysis/index.js';

export interface LogLine {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

export function captureLogger(lines: LogLine[] = []): FastifyBaseLogger & { lines: LogLine[] } {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger = {
    lines,
    level: 'trace',
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    silent: () => undefined,
    child: () => logger,
  };
  return logger as unknown as FastifyBaseLogger & { lines: LogLine[] };
}

export function mdsoConfig(overrides: Partial<MdsoConfig> = {}): MdsoConfig {
  return { ...loadConfig({}).mdso, ...overrides };
}

export class Clock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advanceHours(h: number): void {
    this.ms += h * 3_600_000;
  }
}

export interface TestAnalysis {
  db: Db;
  registry: Registry;
  logger: ReturnType<typeof captureLogger>;
  clock: Clock;
  analysis: MdsoAnalysis;
  close(): Promise<void>;
}

export function newAnalysis(opts: { config?: Partial<MdsoConfig>; clock?: Clock; fetchImpl?: typeof fetch } = {}): TestAnalysis {
  const db = new Database(':memory:');
  const registry = new Registry();
  const logger = captureLogger();
  const clock = opts.clock ?? new Clock(Date.UTC(2026, 10, 20, 12, 0, 0));
  const analysis = new MdsoAnalysis({
    db,
    registry,
    logger,
    config: mdsoConfig(opts.config),
    now: clock.now,
    ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
  });
  return {
    db,
    registry,
    logger,
    clock,
    analysis,
    async close() {
      await analysis.close();
      db.close();
    },
  };
}

let seq = 0;

/** A failure whose error comes from a TraceLog entry carrying `categorizedError`. */
export function traceFailure(categorizedError: string, over: Partial<FailureInput> = {}, process = 'networkservice.PeServiceProvisioner'): FailureInput {
  seq++;
  const entries: OrchTraceEntry[] = [
    { process, state: 'STARTED', message: 'STARTED PROCESSING', elapsed_time: 1 },
    { process, state: 'FAILED', message: `Error in ${process}, boom`, categorized_error: categorizedError, elapsed_time: 5 },
  ];
  return {
    resourceId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    resourceTypeId: 'charter.resourceTypes.ServiceMapper',
    product: 'ServiceMapper',
    label: '80.L1XX.005054..CHTR',
    circuitId: '80.L1XX.005054..CHTR',
    orchState: 'failed',
    reason: '',
    occurredAtMs: Date.UTC(2026, 10, 20, 11, 0, 0) + seq,
    orchTrace: { traceLogId: `trace-${seq}`, startTimeSec: 1_700_000_000, entries },
    ...over,
  };
}
