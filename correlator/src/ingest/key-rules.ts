import type { Config } from '../config/config.js';
import { compileLogPattern } from '../config/log-pattern.js';
import { AliasMatcher } from '../otlp/alias-matcher.js';
import type { KeyExtractionRules } from '../otlp/decoded.js';

export function keyRulesFromConfig(config: Readonly<Config>): KeyExtractionRules {
  return {
    aliases: new AliasMatcher(new Map(Object.entries(config.keys.aliases))),
    logPatterns: config.keys.logPatterns.map(p => ({ key: p.key, regex: compileLogPattern(p.pattern), mention: p.mention === true })),
    maxAttributeValueBytes: config.limits.maxAttributeValueBytes,
    maxNameBytes: config.limits.maxNameBytes,
  };
}
