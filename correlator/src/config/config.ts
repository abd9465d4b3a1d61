// The only module that reads process.env. Everything is validated here, once, at start-up: an
// invalid value stops the process with a message naming the setting, never a surprise later.
import { accessSync, existsSync, constants as fsConstants, lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isIP } from 'node:net';
import { BUSINESS_KEY_NAMES, type BusinessKeyName } from '@correlation-station/api-schema';
import { textWithoutCredentials, withoutCredentials } from '../mdso/client/safe-url.js';
import { linearTimeProblem } from './log-pattern.js';
import { DEFAULT_BRIDGE_KEYS, DEFAULT_CORRELATION_KEYS, DEFAULT_KEY_ALIASES, DEFAULT_LOG_KEY_PATTERNS } from './key-defaults.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type AuthMode = 'none' | 'basic' | 'bearer';

export interface LogKeyPattern {
  key: BusinessKeyName;
  /** Source text of a regex whose first capture group is the value. */
  pattern: string;
  /**
   * A value found in passing (a bare circuit name in prose), not a field the line writes
   * (`circuit_id=X`): in a line with a trace id it is no key of the line (log-keys.ts).
   */
  mention?: boolean;
}

export interface Config {
  version: string;
  port: number;
  host: string;
  dataDir: string;
  storeBackend: 'sqlite';
  logLevel: LogLevel;
  correlationWindowSeconds: number;
  retentionDays: number;
  limits: {
    maxBodyBytes: number;
    maxAttributeValueBytes: number;
    maxNameBytes: number;
    maxBatchSize: number;
    /** Spans or log records (and twice as many resource and scope containers) in one OTLP request; more get 413. */
    maxItemsPerRequest: number;
    /** Attributes, events, links and array or list members in one OTLP/JSON request; more get 413. */
    maxAttributesPerRequest: number;
    maxTrackedTraces: number;
    maxTrackedKeys: number;
    maxTracesPerCircuit: number;
    maxInflightRequests: number;
    /** Decoded request bodies being ingested at once; more get 503 (one is always let through). */
    maxInflightBytes: number;
    maxEventLoopDelayMs: number;
    /** A request not fully received by then is dropped, so stalled uploads cannot hold ingest slots. */
    requestTimeoutMs: number;
    /** An ingest upload that sends nothing for this long is dropped, well before requestTimeoutMs. */
    requestIdleTimeoutMs: number;
    /** Memory for the JSON of spans already served (0: none kept). */
    spanJsonCacheBytes: number;
    /** Worker threads that share the rendering of large views with the main thread (0: none). */
    viewRenderWorkers: number;
    /** Ingest rows are written by a thread of their own (file-backed stores only). */
    storeWriterThread: boolean;
    /** Rebuild spans whose bytes are gone from their segment files even when that is not what a power cut leaves. */
    storeRebuildLostSpans: boolean;
    /** Memory for the filter that spares store lookups of new trace ids, keys and log records (0: none). */
    storeSeenFilterBytes: number;
  };
  keys: {
    /** attribute name → business key, defaults merged with KEY_ALIASES */
    aliases: Readonly<Record<string, BusinessKeyName>>;
    logPatterns: readonly LogKeyPattern[];
    /** keys whose matches create bridge spans between traces */
    bridgeKeys: readonly BusinessKeyName[];
    /** keys whose matches form correlations (the others are recorded on traces and circuits) */
    correlationKeys: readonly BusinessKeyName[];
  };
  tempo: {
    endpoint: string | null;
    headers: Readonly<Record<string, string>>;
    queueMax: number;
    batchSize: number;
    bridgeExportDelaySeconds: number;
    /**
     * How long a bridge whose traces lack their roots waits for them before it is sent anyway
     * (never sooner than the delay): a remote parent never sent leaves its trace rootless.
     */
    bridgeExportMaxHoldSeconds: number;
  };
  auth: {
    mode: AuthMode;
    username: string;
    password: string;
    token: string;
    protectMetrics: boolean;
  };
  mdso: MdsoConfig;
}

export interface MdsoConfig {
  /** null: MDSO features are off */
  url: string | null;
  username: string;
  password: string;
  tenant: string;
  authVariant: 'oauth2' | 'legacy';
  products: readonly string[];
  pollIntervalSeconds: number;
  pollOverlapSeconds: number;
  caFile: string | null;
  requestTimeoutMs: number;
  pageSize: number;
  /** null: the catalogue shipped with the correlator */
  defectCatalogPath: string | null;
  webhook: { url: string | null; format: 'slack' | 'webex'; minIntervalSeconds: number };
  issueAutoResolveHours: number;
  /** Error records older than this are deleted; issues keep their counts and history. */
  errorRetentionDays: number;
  /** how far back the first scan of a product looks (MDSO_INITIAL_LOOKBACK_HOURS); default 24 */
  initialLookbackHours?: number;
  /** ask MDSO for `q=orchState:failed` only (MDSO_QUERY_FAILED_ONLY); default true */
  failedOnlyQuery?: boolean;
  /** retries after a 5xx, network error, timeout or broken JSON (MDSO_MAX_RETRIES); default 3 */
  maxRetries?: number;
}

export interface SimulatorConfig {
  port: number;
  host: string;
  seed: number;
  resourcesPerProduct: number;
  failureRate: number;
  tokenTtlSeconds: number;
}

export const DEFAULT_MDSO_PRODUCTS = [
  'charter.resourceTypes.NetworkService',
  'charter.resourceTypes.ServiceMapper',
  'charter.resourceTypes.DisconnectMapper',
  'charter.resourceTypes.NetworkServiceUpdate',
  'charter.resourceTypes.cpeActivator',
  'charter.resourceTypes.PortActivation',
  'charter.resourceTypes.ManagedServicesActivator',
] as const;

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Invalid setting ${setting}: ${reason}`, options);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `expected an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function num(env: Env, name: string, def: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  // Number() alone also took 0x10, 1e3, 0b11 and +5: values nobody reading the setting expects.
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new ConfigError(name, `expected a decimal number such as 30 or 0.5, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(name, `expected true or false, got "${v}"`);
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const v = raw(env, name);
  if (v === undefined) return def;
  const lower = v.toLowerCase() as T;
  if (!allowed.includes(lower)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${v}"`);
  return lower;
}

const NOT_SHOWN = 'the value is not shown, as it may hold a credential';
const NAME_NOT_SHOWN = 'the name is not shown, as it may hold a credential';

interface UrlRules {
  /** The whole URL is a credential (a webhook): no part of it is ever quoted. */
  secret?: boolean;
  /**
   * Set for URLs that fetch() is given: it refuses every request to a URL with user:password@,
   * and its error, logged on each attempt, quotes the URL and so the password. The text says
   * what to do instead.
   */
  credentialsRefused?: string;
  /** A base URL the caller appends a path to: a #fragment would swallow that path. */
  base?: boolean;
}

function url(env: Env, name: string, rules: UrlRules = {}): string | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  // Quoted as it is logged: user:password, query values (?token=) and the fragment hidden.
  const quotable = !rules.secret;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, quotable ? `not a valid URL: "${textWithoutCredentials(v)}"` : `not a valid URL (${NOT_SHOWN})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, quotable ? `must be an http or https URL, got "${parsed.protocol}"` : `must be an http or https URL (${NOT_SHOWN})`);
  }
  if (rules.credentialsRefused !== undefined && (parsed.username !== '' || parsed.password !== '')) {
    throw new ConfigError(name, `must not contain credentials (user:password@ before the host); ${rules.credentialsRefused}`);
  }
  if (rules.base && parsed.hash !== '') {
    // Not quoted: gateways take tokens in the fragment too.
    throw new ConfigError(name, `must not have a #fragment: the path is appended to it`);
  }
  return v.replace(/\/+$/, '');
}

function jsonObject(env: Env, name: string): Record<string, unknown> | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new ConfigError(name, `not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(name, 'expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function isKeyName(v: unknown): v is BusinessKeyName {
  return typeof v === 'string' && (BUSINESS_KEY_NAMES as readonly string[]).includes(v);
}

function keyAliases(env: Env): Record<string, BusinessKeyName> {
  const extra = jsonObject(env, 'KEY_ALIASES') ?? {};
  const merged: Record<string, BusinessKeyName> = { ...DEFAULT_KEY_ALIASES };
  for (const [attr, key] of Object.entries(extra)) {
    if (!isKeyName(key)) {
      throw new ConfigError('KEY_ALIASES', `"${attr}" maps to "${String(key)}", which is not one of ${BUSINESS_KEY_NAMES.join(', ')}`);
    }
    merged[attr] = key;
  }
  return merged;
}

function logPatterns(env: Env): LogKeyPattern[] {
  const v = raw(env, 'LOG_KEY_PATTERNS');
  if (v === undefined) return [...DEFAULT_LOG_KEY_PATTERNS];
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new ConfigError('LOG_KEY_PATTERNS', `not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError('LOG_KEY_PATTERNS', 'expected a JSON array of {"key","pattern"}');
  return parsed.map((item: unknown, i: number) => {
    const o = item as { key?: unknown; pattern?: unknown };
    if (!isKeyName(o?.key)) throw new ConfigError('LOG_KEY_PATTERNS', `item ${i}: key must be one of ${BUSINESS_KEY_NAMES.join(', ')}`);
    if (typeof o.pattern !== 'string') throw new ConfigError('LOG_KEY_PATTERNS', `item ${i}: pattern must be a string`);
    // A misspelt field ("mentions") was taken as absent: the pattern then keyed traced lines.
    const unknown = Object.keys(o).find(k => k !== 'key' && k !== 'pattern' && k !== 'mention');
    if (unknown !== undefined) throw new ConfigError('LOG_KEY_PATTERNS', `item ${i}: unknown field "${unknown}" (an item has key, pattern and mention)`);
    const mention = (o as { mention?: unknown }).mention;
    if (mention !== undefined && typeof mention !== 'boolean') throw new ConfigError('LOG_KEY_PATTERNS', `item ${i}: mention must be true or false`);
    let re: RegExp;
    try {
      re = new RegExp(o.pattern);
    } catch (e) {
      throw new ConfigError('LOG_KEY_PATTERNS', `item ${i}: invalid regex (${(e as Error).message})`);
    }
    const slow = linearTimeProblem(o.pattern);
    if (slow) throw new ConfigError('LOG_KEY_PATTERNS', `item ${i}: the pattern ${slow}`);
    // The value is the first group: a second one, meant to group an alternation, took the place
    // of the value in the user's reading and named circuits after the alternatives.
    const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
    if (groups !== 1) {
      const found = groups === 0 ? 'none' : `${groups}`;
      throw new ConfigError(
        'LOG_KEY_PATTERNS',
        `item ${i}: the pattern needs exactly one capture group, for the value, and has ${found}` +
          (groups > 1 ? '; make the others non-capturing, (?:...)' : ''),
      );
    }
    return mention ? { key: o.key, pattern: o.pattern, mention } : { key: o.key, pattern: o.pattern };
  });
}

function keyList(env: Env, name: string, def: readonly BusinessKeyName[]): BusinessKeyName[] {
  const v = raw(env, name);
  if (v === undefined) return [...def];
  const items = v.split(',').map(s => s.trim()).filter(Boolean);
  // As MDSO_PRODUCTS: a list naming none is a mistake (a template's empty expansion), and for
  // BRIDGE_KEYS it turned stitching off without a word (RV18).
  if (items.length === 0) throw new ConfigError(name, `"${v}" names no key; list keys of ${BUSINESS_KEY_NAMES.join(', ')} separated by commas, or leave it unset for the default ${def.join(',')}`);
  for (const item of items) {
    if (!isKeyName(item)) throw new ConfigError(name, `"${item}" is not one of ${BUSINESS_KEY_NAMES.join(', ')}`);
  }
  return items as BusinessKeyName[];
}

// RFC 9110: a header name is a token; a value is tab, visible ASCII, space and obs-text. fetch()
// refuses the rest on every export, and its error, logged each time, quotes the value.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * Headers fetch() refuses outright (connection handling is its own), or that the exporter sets
 * from the body it sends: configured, they broke every export, or sent two content types.
 */
const HEADERS_NOT_CONFIGURABLE = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
  'host',
  'content-length',
  'content-type',
  'content-encoding',
]);

/**
 * TEMPO_HEADERS carries credentials, so no message quotes a value or the JSON parser, whose
 * message quotes the text around the error. An invalid name is not quoted either: a name with
 * ":" or a space is likely a whole "Authorization: Bearer …" line put in the wrong place.
 */
function tempoHeaders(env: Env): Record<string, string> {
  const name = 'TEMPO_HEADERS';
  const shape = 'must be a JSON object of header names to strings, e.g. {"X-Scope-OrgID":"ops"}';
  const v = raw(env, name);
  if (v === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new ConfigError(name, `is not valid JSON (${NOT_SHOWN}); it ${shape}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(name, shape);
  const entries = Object.entries(parsed);
  entries.forEach(([header, value], i) => {
    if (!HEADER_NAME.test(header)) {
      throw new ConfigError(
        name,
        `header name number ${i + 1} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only; ${NAME_NOT_SHOWN})`,
      );
    }
    if (HEADERS_NOT_CONFIGURABLE.has(header.toLowerCase())) {
      throw new ConfigError(name, `"${header}" cannot be set: the exporter's HTTP client sets it from the request it sends`);
    }
    if (typeof value !== 'string') throw new ConfigError(name, `value of "${header}" must be a string`);
    if (!HEADER_VALUE.test(value)) {
      throw new ConfigError(
        name,
        `value of "${header}" is not a valid HTTP header value: it contains a line break, NUL, another control character or a character above U+00FF (${NOT_SHOWN})`,
      );
    }
  });
  return Object.fromEntries(entries) as Record<string, string>;
}

// Checked here because listen() fails on a bad address with a stack trace that does not name the
// setting. A name that does not resolve can only be found by listen() itself.
function hostSetting(env: Env, name: string, def: string): string {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (isIP(v) !== 0) return v;
  const labels = (v.endsWith('.') ? v.slice(0, -1) : v).split('.');
  const nameLike =
    v.length <= 253 &&
    labels.every(l => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l)) &&
    // the resolver reads a name ending in digits (999.1.1.1, 10.1) as an IPv4 address
    !/^\d+$/.test(labels[labels.length - 1]!);
  if (!nameLike) {
    throw new ConfigError(name, `expected an IP address (IPv6 without brackets) or a host name of letters, digits, "-", "_" and dots, got "${v}"`);
  }
  return v;
}

/**
 * The store creates the directory when missing; what exists at the path must be one, and this
 * process must be able to write there. Checked here because SQLite's own refusal, "unable to open
 * database file", names neither the setting nor the path nor the permission.
 */
function dataDirSetting(env: Env): string {
  const v = raw(env, 'DATA_DIR') ?? './data';
  if (v === ':memory:') return v;
  let isDir: boolean;
  try {
    isDir = statSync(v).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const { path: parent, danglingTarget } = nearestOnDisk(resolve(v));
      if (danglingTarget !== null) {
        throw new ConfigError('DATA_DIR', `"${v}" cannot be created: ${parent} is a symbolic link to ${danglingTarget}, which does not exist (a volume not mounted?)`);
      }
      if (!writable(parent))
        throw new ConfigError('DATA_DIR', `"${v}" does not exist and cannot be created: ${parent} is not writable by this process (${processUser()})`);
      return v;
    }
    if (code === 'ENOTDIR') throw new ConfigError('DATA_DIR', `"${v}" is not a usable directory: part of the path is a file`);
    throw new ConfigError('DATA_DIR', `"${v}" is not a usable directory (${code ?? (e as Error).message})`);
  }
  if (!isDir) throw new ConfigError('DATA_DIR', `"${v}" exists and is not a directory`);
  if (!writable(v)) throw new ConfigError('DATA_DIR', `"${v}" is not writable by this process (${processUser()})`);
  return v;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK | fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nearest of `path` and its parents that is on disk, and when that is a symbolic link whose
 * target does not exist, the target. Such a DATA_DIR failed with a raw ENOENT from mkdir, naming
 * neither the setting nor the link.
 */
function nearestOnDisk(path: string): { path: string; danglingTarget: string | null } {
  for (let dir = path; ; dir = dirname(dir)) {
    let link: boolean;
    try {
      link = lstatSync(dir).isSymbolicLink();
    } catch {
      if (dirname(dir) === dir) return { path: dir, danglingTarget: null };
      continue;
    }
    if (link && !existsSync(dir)) return { path: dir, danglingTarget: readlinkSync(dir) };
    return { path: dir, danglingTarget: null };
  }
}

/** Who the operator must give the directory to. */
function processUser(): string {
  return typeof process.getuid === 'function' ? `user id ${process.getuid()}` : 'its user';
}

function authSettings(env: Env): Config['auth'] {
  // ENABLE_BASIC_AUTH / BASIC_AUTH_USER / BASIC_AUTH_PASS are the names of the user's original
  // design; they keep working so an existing deployment needs no edit.
  const legacyBasic = bool(env, 'ENABLE_BASIC_AUTH', false);
  const mode = oneOf<AuthMode>(env, 'AUTH_MODE', legacyBasic ? 'basic' : 'none', ['none', 'basic', 'bearer']);
  // Letting either one win would be a guess; AUTH_MODE winning served every route without
  // credentials to an operator who had set ENABLE_BASIC_AUTH=true.
  if (legacyBasic && mode !== 'basic') {
    throw new ConfigError('AUTH_MODE', `is ${mode}, but ENABLE_BASIC_AUTH=true asks for basic auth; remove one of them or make them agree`);
  }
  // Both names of one credential, set to different values: whichever won, the other was a
  // credential the operator believed in that no longer opened anything (RV18). Values unquoted.
  // Only where they are used: with another mode they are kept unused, as the README says (RV19).
  for (const [current, legacy] of [['AUTH_USERNAME', 'BASIC_AUTH_USER'], ['AUTH_PASSWORD', 'BASIC_AUTH_PASS']] as const) {
    const [a, b] = [raw(env, current), raw(env, legacy)];
    if (mode === 'basic' && a !== undefined && b !== undefined && a !== b)
      throw new ConfigError(current, `and ${legacy} are both set, to different values; set one of them`);
  }
  const username = raw(env, 'AUTH_USERNAME') ?? raw(env, 'BASIC_AUTH_USER') ?? '';
  const password = raw(env, 'AUTH_PASSWORD') ?? raw(env, 'BASIC_AUTH_PASS') ?? '';
  const token = raw(env, 'AUTH_TOKEN') ?? '';
  if (mode === 'basic' && (!username || !password)) {
    throw new ConfigError('AUTH_MODE', 'basic needs AUTH_USERNAME and AUTH_PASSWORD');
  }
  // RFC 7617: a client sends "user:password" and the first colon ends the user, so no client could
  // send a user holding one; "a:b" with password "c" also matched user "a" with password "b:c".
  if (mode === 'basic' && username.includes(':')) {
    throw new ConfigError(raw(env, 'AUTH_USERNAME') !== undefined ? 'AUTH_USERNAME' : 'BASIC_AUTH_USER', 'must not contain ":" (basic auth sends user:password, and the first colon ends the user)');
  }
  if (mode === 'bearer' && token.length < 16) {
    throw new ConfigError('AUTH_TOKEN', 'bearer mode needs a token of at least 16 characters');
  }
  // A client sends the header as bytes: "ö" typed in curl arrives as two, and a token holding it
  // was accepted here and then matched by no request.
  if (mode === 'bearer' && !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('AUTH_TOKEN', 'must be visible ASCII characters (no spaces, no letters such as "ö"): a client sends them as bytes in the Authorization header');
  }
  // Credentials with no mode: an AUTH_MODE that failed to be set served every route to anyone,
  // silently, to an operator who had set AUTH_TOKEN. Only their names are quoted. AUTH_MODE=none
  // or ENABLE_BASIC_AUTH=false given is a choice, and kept.
  const given = (['AUTH_TOKEN', 'AUTH_USERNAME', 'AUTH_PASSWORD', 'BASIC_AUTH_USER', 'BASIC_AUTH_PASS'] as const).filter(n => raw(env, n) !== undefined);
  const modeGiven = raw(env, 'AUTH_MODE') !== undefined || raw(env, 'ENABLE_BASIC_AUTH') !== undefined;
  if (mode === 'none' && !modeGiven && given.length > 0) {
    const are = given.length > 1;
    throw new ConfigError(
      'AUTH_MODE',
      `is not set, but ${given.join(', ')} ${are ? 'are' : 'is'} set: every route would be served without credentials; set AUTH_MODE to basic or bearer (or to none to serve without them), or unset ${are ? 'them' : 'it'}`,
    );
  }
  return { mode, username, password, token, protectMetrics: bool(env, 'AUTH_PROTECT_METRICS', false) };
}

function mdsoSettings(env: Env): MdsoConfig {
  const mdsoUrl = url(env, 'MDSO_URL');
  const products = raw(env, 'MDSO_PRODUCTS');
  const productList = products ? products.split(',').map(s => s.trim()).filter(Boolean) : [...DEFAULT_MDSO_PRODUCTS];
  // Without a product the poller would scan nothing and report "ok" forever.
  if (productList.length === 0) {
    throw new ConfigError('MDSO_PRODUCTS', `"${products}" names no product; list resource types separated by commas, or leave it unset for the default ${DEFAULT_MDSO_PRODUCTS.length}`);
  }
  for (const p of productList) {
    if (!/^[A-Za-z0-9_.-]+$/.test(p)) throw new ConfigError('MDSO_PRODUCTS', `"${p}" is not a resource type id`);
  }
  const cfg: MdsoConfig = {
    url: mdsoUrl,
    username: raw(env, 'MDSO_USER') ?? '',
    password: raw(env, 'MDSO_PASS') ?? '',
    tenant: raw(env, 'MDSO_TENANT') ?? 'master',
    authVariant: oneOf(env, 'MDSO_AUTH_VARIANT', 'oauth2', ['oauth2', 'legacy'] as const),
    products: productList.map(p => (p.includes('.') ? p : `charter.resourceTypes.${p}`)),
    pollIntervalSeconds: int(env, 'MDSO_POLL_INTERVAL_SECONDS', 60, 5, 86400),
    pollOverlapSeconds: int(env, 'MDSO_POLL_OVERLAP_SECONDS', 120, 0, 86400),
    caFile: raw(env, 'MDSO_CA_FILE') ?? null,
    requestTimeoutMs: int(env, 'MDSO_TIMEOUT_MS', 15000, 100, 600000),
    pageSize: int(env, 'MDSO_PAGE_SIZE', 500, 1, 5000),
    defectCatalogPath: raw(env, 'DEFECT_CATALOG') ?? null,
    webhook: {
      url: url(env, 'MDSO_WEBHOOK_URL', {
        secret: true,
        credentialsRefused: 'every request to such a URL fails (Slack and Webex webhooks carry their secret in the path)',
      }),
      format: oneOf(env, 'MDSO_WEBHOOK_FORMAT', 'slack', ['slack', 'webex'] as const),
      minIntervalSeconds: int(env, 'MDSO_WEBHOOK_MIN_INTERVAL_SECONDS', 60, 0, 86400),
    },
    issueAutoResolveHours: num(env, 'ISSUE_AUTO_RESOLVE_HOURS', 336, 0.01, 87600),
    errorRetentionDays: num(env, 'MDSO_ERROR_RETENTION_DAYS', 90, 1, 3650),
    initialLookbackHours: num(env, 'MDSO_INITIAL_LOOKBACK_HOURS', 24, 0, 24 * 3650),
    failedOnlyQuery: bool(env, 'MDSO_QUERY_FAILED_ONLY', true),
    maxRetries: int(env, 'MDSO_MAX_RETRIES', 3, 0, 20),
  };
  if (cfg.url && (!cfg.username || !cfg.password)) {
    throw new ConfigError('MDSO_URL', 'is set, so MDSO_USER and MDSO_PASS are required');
  }
  return cfg;
}

/**
 * How long a new bridge waits before it goes to Tempo when BRIDGE_EXPORT_DELAY_SECONDS is unset.
 * Tempo keeps what it is sent: a bridge sent and then replaced, because a trace that belongs between
 * its two came later, stays there beside its successors for good (beorn calling arda directly, in
 * Tempo's view, while the API shows beorn → MDSO → arda). Traces join a circuit as long as their
 * times fall within the window, so a bridge waits the window; and MDSO's spans, made by the poller
 * from its failures, arrive up to a poll interval after the failure, so a bridge waits that too when
 * the poller runs. The API shows a bridge at once; only Tempo's copy waits.
 */
export function defaultBridgeExportDelaySeconds(windowSeconds: number, mdso: Pick<MdsoConfig, 'url' | 'pollIntervalSeconds'>): number {
  return Math.min(BRIDGE_EXPORT_DELAY_MAX_SECONDS, windowSeconds + (mdso.url ? mdso.pollIntervalSeconds : 0));
}

const BRIDGE_EXPORT_DELAY_MAX_SECONDS = 3600;

export function loadConfig(env: Env = process.env, version = '0.1.0'): Readonly<Config> {
  const storeBackend = oneOf(env, 'STORE_BACKEND', 'sqlite', ['sqlite', 'postgres'] as const);
  if (storeBackend === 'postgres') {
    throw new ConfigError('STORE_BACKEND', 'postgres is not available yet; use sqlite (the default)');
  }
  const correlationWindowSeconds = num(env, 'CORR_WINDOW_SECONDS', 60, 1, 86400);
  const mdso = mdsoSettings(env);
  const config: Config = {
    version,
    port: int(env, 'PORT', 8080, 0, 65535),
    host: hostSetting(env, 'HOST', '0.0.0.0'),
    dataDir: dataDirSetting(env),
    storeBackend,
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    correlationWindowSeconds,
    retentionDays: num(env, 'RETENTION_DAYS', 7, 0.001, 3650),
    limits: {
      maxBodyBytes: int(env, 'MAX_BODY_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxAttributeValueBytes: int(env, 'MAX_ATTRIBUTE_VALUE_BYTES', 64 * 1024, 16, 64 * 1024 * 1024),
      maxNameBytes: int(env, 'MAX_NAME_BYTES', 4096, 16, 64 * 1024 * 1024),
      maxBatchSize: int(env, 'MAX_BATCH_SIZE', 5000, 1, 1_000_000),
      maxItemsPerRequest: int(env, 'MAX_ITEMS_PER_REQUEST', 65_536, 1, 100_000_000),
      maxAttributesPerRequest: int(env, 'MAX_ATTRIBUTES_PER_REQUEST', 524_288, 1, 100_000_000),
      maxTrackedTraces: int(env, 'MAX_TRACKED_TRACES', 500_000, 100, 50_000_000),
      maxTrackedKeys: int(env, 'MAX_TRACKED_KEYS', 500_000, 100, 50_000_000),
      maxTracesPerCircuit: int(env, 'MAX_TRACES_PER_CIRCUIT', 500, 2, 100_000),
      maxInflightRequests: int(env, 'MAX_INFLIGHT_REQUESTS', 64, 1, 100_000),
      maxInflightBytes: int(env, 'MAX_INFLIGHT_BYTES', 256 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
      maxEventLoopDelayMs: int(env, 'MAX_EVENT_LOOP_DELAY_MS', 2000, 10, 600_000),
      requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 120_000, 1000, 3_600_000),
      requestIdleTimeoutMs: int(env, 'REQUEST_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
      spanJsonCacheBytes: int(env, 'SPAN_JSON_CACHE_BYTES', 64 * 1024 * 1024, 0, 64 * 1024 * 1024 * 1024),
      viewRenderWorkers: int(env, 'VIEW_RENDER_WORKERS', 1, 0, 16),
      storeWriterThread: bool(env, 'STORE_WRITER_THREAD', true),
      storeRebuildLostSpans: bool(env, 'STORE_REBUILD_LOST_SPANS', false),
      storeSeenFilterBytes: int(env, 'STORE_SEEN_FILTER_BYTES', 64 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    },
    keys: {
      aliases: Object.freeze(keyAliases(env)),
      logPatterns: Object.freeze(logPatterns(env)),
      bridgeKeys: Object.freeze(keyList(env, 'BRIDGE_KEYS', DEFAULT_BRIDGE_KEYS)),
      correlationKeys: Object.freeze(keyList(env, 'CORRELATION_KEYS', DEFAULT_CORRELATION_KEYS)),
    },
    tempo: {
      endpoint: url(env, 'TEMPO_OTLP_ENDPOINT', {
        base: true,
        credentialsRefused: 'put them in TEMPO_HEADERS instead, e.g. {"Authorization":"Basic <base64 of user:password>"}',
      }),
      headers: Object.freeze(tempoHeaders(env)),
      queueMax: int(env, 'EXPORT_QUEUE_MAX', 100_000, 10, 100_000_000),
      batchSize: int(env, 'EXPORT_BATCH_SIZE', 512, 1, 100_000),
      bridgeExportDelaySeconds: num(
        env,
        'BRIDGE_EXPORT_DELAY_SECONDS',
        defaultBridgeExportDelaySeconds(correlationWindowSeconds, mdso),
        0,
        BRIDGE_EXPORT_DELAY_MAX_SECONDS,
      ),
      bridgeExportMaxHoldSeconds: num(env, 'BRIDGE_EXPORT_MAX_HOLD_SECONDS', 300, 0, 86_400),
    },
    auth: authSettings(env),
    mdso,
  };
  return deepFreeze(config);
}

/** The auth settings alone, as strictly as loadConfig reads them: for clients of the correlator (`npm run demo`). */
export function loadAuthConfig(env: Env = process.env): Readonly<Config['auth']> {
  return Object.freeze(authSettings(env));
}

export function loadSimulatorConfig(env: Env = process.env): Readonly<SimulatorConfig> {
  return Object.freeze({
    port: int(env, 'MDSO_SIM_PORT', 8181, 0, 65535),
    host: hostSetting(env, 'MDSO_SIM_HOST', '127.0.0.1'),
    seed: int(env, 'MDSO_SIM_SEED', 42, 0, 2 ** 31 - 1),
    resourcesPerProduct: int(env, 'MDSO_SIM_RESOURCES_PER_PRODUCT', 200, 0, 1_000_000),
    failureRate: num(env, 'MDSO_SIM_FAILURE_RATE', 0.2, 0, 1),
    tokenTtlSeconds: int(env, 'MDSO_SIM_TOKEN_TTL_SECONDS', 3600, 1, 86400 * 30),
  });
}

/** A copy safe to log: secrets replaced by their presence. A webhook URL is itself a credential. */
export function redactConfig(config: Readonly<Config>): Record<string, unknown> {
  const hidden = (s: string | null) => (s ? '<set>' : '<unset>');
  return {
    ...config,
    auth: { ...config.auth, password: hidden(config.auth.password), token: hidden(config.auth.token) },
    tempo: {
      ...config.tempo,
      endpoint: withoutCredentials(config.tempo.endpoint),
      headers: Object.fromEntries(Object.keys(config.tempo.headers).map(k => [k, '<set>'])),
    },
    mdso: {
      ...config.mdso,
      url: withoutCredentials(config.mdso.url),
      password: hidden(config.mdso.password),
      webhook: { ...config.mdso.webhook, url: hidden(config.mdso.webhook.url) },
    },
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
