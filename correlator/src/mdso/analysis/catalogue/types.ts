import type { RE2JS } from 're2js';

export const DEFECT_SYSTEMS = ['MDSO', 'SEnSE', 'Granite', 'device'] as const;
export type DefectSystem = (typeof DEFECT_SYSTEMS)[number];

export const DEFECT_SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type DefectSeverity = (typeof DEFECT_SEVERITIES)[number];

export const DEFECT_CODE_PATTERN = /^DE-\d{4}$/;

export interface DefectRule {
  code: string;
  title: string;
  category: string;
  system: DefectSystem;
  /** short product names; empty = every product */
  products: readonly string[];
  severity: DefectSeverity;
  team: string;
  runbook: string;
  patterns: readonly string[];
  /** 1-based line of the rule in its file, for messages */
  line: number;
}

export interface CompiledRule extends DefectRule {
  compiled: readonly RE2JS[];
}

export interface Catalogue {
  /** the `version` the file declares */
  version: string;
  /** first 12 hex chars of the file's SHA-256: tells two edits with the same declared version apart */
  hash: string;
  rules: readonly CompiledRule[];
}

export interface CatalogueProblem {
  line: number;
  column: number;
  message: string;
}

export type CatalogueParseResult =
  | { ok: true; catalogue: Catalogue }
  | { ok: false; problems: CatalogueProblem[] };
