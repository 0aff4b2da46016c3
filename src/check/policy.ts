// Policies for `knetstat-java check`: parse and validate a policy file (or
// --expect shorthands) into rules. Every error is one line naming the field
// (rules[1].expect.SO_KEEPALIVE ...) and is a FormatError: exit 2.
import { FormatError } from '../errors.js';
import { decodeText, readRegularFile } from '../linux/files.js';
import { parseJson, preview } from '../schema.js';
import { mappings } from '../mappings.js';
import type { Linger, Role } from '../model/types.js';

export type MatchProtocol = 'tcp' | 'tcp4' | 'tcp6' | 'udp' | 'udp4' | 'udp6';

/** Which sockets a rule applies to: every given key must match. */
export interface Match {
  /** "tcp" matches tcp and tcp6 sockets, "tcp4" only IPv4, "tcp6" only IPv6 (same for udp). */
  protocol?: MatchProtocol;
  /** Kernel state as ss spells it: LISTEN, ESTABLISHED, UNCONN ... (case-insensitive). */
  state?: string;
  role?: Role;
  localPort?: number;
  remotePort?: number;
  /** Exact address; an IPv4 address also matches its v4-mapped form ::ffff:a.b.c.d. */
  localAddress?: string;
  remoteAddress?: string;
}

/** What one option must be, in the kernel's terms (as the JSON report shows it). */
export type OptionExpectation =
  | { kind: 'exact'; value: number | string | Linger }
  | { kind: 'range'; min?: number; max?: number };

export interface Rule {
  name: string;
  match: Match;
  /** Option name -> expectation. */
  expect: Record<string, OptionExpectation>;
  /** Java calls (as the report writes them) that must / must not be present, any origin. */
  java: { has: string[]; not: string[] };
  /** A rule that matches no socket fails instead of being skipped. */
  required: boolean;
}

export interface Policy {
  rules: Rule[];
  /** Where it came from: a file name or "--expect". */
  origin: string;
}

const MATCH_KEYS = ['protocol', 'state', 'role', 'localPort', 'remotePort', 'localAddress', 'remoteAddress'] as const;
const PROTOCOLS: MatchProtocol[] = ['tcp', 'tcp4', 'tcp6', 'udp', 'udp4', 'udp6'];
const ROLES: Role[] = ['listening', 'accepted', 'connected', 'unconnected', 'udp'];
const RULE_KEYS = ['name', 'match', 'expect', 'required'];
/** rules[i].expect.SO_LINGER.enabled is 4 deep: a policy nested deeper than this is not one. */
const POLICY_MAX_DEPTH = 16;

/**
 * The read timeout (ms, 0 = infinite) that --observe saw on a socket's reads: a
 * policy key like an option, checked against every value observed (evaluate.ts).
 */
export const SO_TIMEOUT = 'soTimeout';

/** Options a policy may name: the kernel catalog, a listener's backlog, and the observed soTimeout. */
export function knownOptions(): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of mappings().kernel) out.set(o.name, o.type);
  out.set('backlog', 'int');
  out.set(SO_TIMEOUT, 'int');
  return out;
}

function fail(where: string, what: string): never {
  throw new FormatError(`${where}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function port(where: string, v: unknown): number {
  if (typeof v === 'string' && /^\d+$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) fail(where, `expected a port number 0..65535, got ${preview(v)}`);
  return v;
}

function str(where: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') fail(where, `expected a non-empty string, got ${preview(v)}`);
  return v.trim();
}

export function parseMatch(where: string, m: unknown): Match {
  if (!isObject(m)) fail(where, `expected an object such as {"remotePort": 5432}, got ${preview(m)}`);
  const out: Match = {};
  for (const [k, v] of Object.entries(m)) {
    const at = `${where}.${k}`;
    switch (k) {
      case 'protocol': {
        const p = str(at, v).toLowerCase();
        if (!PROTOCOLS.includes(p as MatchProtocol)) fail(at, `unknown protocol '${p}' (one of: ${PROTOCOLS.join(', ')})`);
        out.protocol = p as MatchProtocol;
        break;
      }
      case 'state': out.state = str(at, v).toUpperCase(); break;
      case 'role': {
        const r = str(at, v);
        if (!ROLES.includes(r as Role)) fail(at, `unknown role '${r}' (one of: ${ROLES.join(', ')})`);
        out.role = r as Role;
        break;
      }
      case 'localPort': case 'remotePort': out[k] = port(at, v); break;
      case 'localAddress': case 'remoteAddress': out[k] = str(at, v).replace(/^\[(.*)\]$/, '$1').toLowerCase(); break;
      default: fail(at, `unknown match key (known: ${MATCH_KEYS.join(', ')})`);
    }
  }
  return out;
}

function num(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `expected a number, got ${preview(v)}`);
  return v;
}

/**
 * One option's expectation. Booleans may be written true/false (= 1/0). SO_LINGER:
 * {"enabled": true, "seconds": 0}, a number of seconds (linger on, that long), or
 * false / -1 / "off" (linger off); no range. TCP_CONGESTION: a name.
 */
export function parseExpectation(where: string, option: string, type: string, v: unknown): OptionExpectation {
  if (type === 'linger') {
    if (v === false || v === -1 || v === 'off') return { kind: 'exact', value: { enabled: false, seconds: 0 } };
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) fail(where, `SO_LINGER: expected seconds >= 0, or -1/false for off, got ${v}`);
      return { kind: 'exact', value: { enabled: true, seconds: v } };
    }
    if (isObject(v) && typeof v.enabled === 'boolean' && Object.keys(v).every((k) => k === 'enabled' || k === 'seconds')) {
      const seconds = v.seconds === undefined ? 0 : num(`${where}.seconds`, v.seconds);
      return { kind: 'exact', value: { enabled: v.enabled, seconds: v.enabled ? seconds : 0 } };
    }
    fail(where, `SO_LINGER: expected {"enabled": true, "seconds": 0}, a number of seconds, or false for off; got ${preview(v)}`);
  }
  if (isObject(v)) {
    const keys = Object.keys(v);
    const bad = keys.find((k) => k !== 'min' && k !== 'max');
    if (bad !== undefined || keys.length === 0) fail(where, `expected a value or {"min": n, "max": n}, got ${preview(v)}`);
    if (type === 'string') fail(where, `${option} is a name: ranges do not apply`);
    const min = v.min === undefined ? undefined : num(`${where}.min`, v.min);
    const max = v.max === undefined ? undefined : num(`${where}.max`, v.max);
    if (min !== undefined && max !== undefined && min > max) fail(where, `min ${min} is greater than max ${max}`);
    return { kind: 'range', min, max };
  }
  if (type === 'string') return { kind: 'exact', value: str(where, v) };
  if (typeof v === 'boolean') {
    if (type !== 'bool') fail(where, `${option} is a number, not a boolean`);
    return { kind: 'exact', value: v ? 1 : 0 };
  }
  return { kind: 'exact', value: num(where, v) };
}

function callList(where: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) fail(where, `expected a list of Java calls such as ["setSoLinger(true, 0)"], got ${preview(v)}`);
  return v.map((x: string) => x.trim());
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function optionName(where: string, name: string, known: Map<string, string>): string {
  if (known.has(name)) return name;
  const upper = name.toUpperCase();
  const close = [...known.keys()].find((k) => k.toUpperCase() === upper || k.toUpperCase().replace(/_/g, '') === upper.replace(/_/g, ''))
    ?? [...known.keys()].find((k) => distance(k.toUpperCase(), upper) <= 2);
  fail(where, `unknown option '${name}'${close ? ` (did you mean ${close}?)` : ` (known: ${[...known.keys()].join(', ')}, java)`}`);
}

export function parseRule(where: string, r: unknown, known = knownOptions()): Rule {
  if (!isObject(r)) fail(where, `expected an object with name, match and expect, got ${preview(r)}`);
  for (const k of Object.keys(r)) if (!RULE_KEYS.includes(k)) fail(`${where}.${k}`, `unknown key (known: ${RULE_KEYS.join(', ')})`);
  const name = str(`${where}.name`, r.name);
  const match = parseMatch(`${where}.match`, r.match ?? {});
  if (!isObject(r.expect) || Object.keys(r.expect).length === 0) fail(`${where}.expect`, `expected an object naming at least one option or "java", got ${preview(r.expect)}`);
  const expect: Record<string, OptionExpectation> = {};
  let java = { has: [] as string[], not: [] as string[] };
  for (const [k, v] of Object.entries(r.expect)) {
    const at = `${where}.expect.${k}`;
    if (k === 'java') {
      if (!isObject(v) || Object.keys(v).some((x) => x !== 'has' && x !== 'not')) fail(at, `expected {"has": [...], "not": [...]}, got ${preview(v)}`);
      java = { has: callList(`${at}.has`, v.has), not: callList(`${at}.not`, v.not) };
      continue;
    }
    const opt = optionName(at, k, known);
    expect[opt] = parseExpectation(at, opt, known.get(opt)!, v);
  }
  if (r.required !== undefined && typeof r.required !== 'boolean') fail(`${where}.required`, `expected true or false, got ${preview(r.required)}`);
  return { name, match, expect, java, required: r.required === true };
}

/** A policy from JSON text; origin names the file in errors. */
export function parsePolicy(text: string, origin: string): Policy {
  let doc: unknown;
  try {
    doc = parseJson(text, origin, POLICY_MAX_DEPTH);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    fail(origin, `not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!isObject(doc)) fail(origin, 'expected a JSON object {"rules": [...]}');
  for (const k of Object.keys(doc)) if (k !== 'rules' && k !== 'description' && k !== '$schema') fail(`${origin}: ${k}`, 'unknown key (known: rules, description)');
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) fail(`${origin}: rules`, 'expected a non-empty list of rules');
  const known = knownOptions();
  const rules = doc.rules.map((r: unknown, i: number) => parseRule(`${origin}: rules[${i}]`, r, known));
  const names = new Set<string>();
  rules.forEach((r: Rule, i: number) => {
    if (names.has(r.name)) fail(`${origin}: rules[${i}].name`, `duplicate rule name '${r.name}'`);
    names.add(r.name);
  });
  return { rules, origin };
}

/** A regular file only (a FIFO would hang, /dev/zero never end), at most 4 MiB. */
export function loadPolicy(file: string): Policy {
  return parsePolicy(decodeText(readRegularFile(file, { maxBytes: 4 << 20, what: 'policy', noFollow: false })), file);
}

/**
 * --expect 'remotePort=5432:SO_KEEPALIVE=1,TCP_NODELAY=1': match terms k=v joined by
 * "," before the colon, expectations after (OPT=v, OPT>=n, OPT<=n). The colon that
 * separates them is the first one followed by an expectation, so IPv6 addresses work:
 * 'remoteAddress=::1:SO_KEEPALIVE=1'. An empty match ('*' or nothing) means every socket.
 */
export function parseExpect(spec: string, known = knownOptions()): Rule {
  const where = `--expect '${spec}'`;
  let cut = -1;
  for (let i = spec.indexOf(':'); i >= 0; i = spec.indexOf(':', i + 1)) {
    if (/^\s*[A-Za-z_][A-Za-z0-9_]*\s*(=|>=|<=)/.test(spec.slice(i + 1))) { cut = i; break; }
  }
  if (cut < 0) fail(where, 'expected MATCH:EXPECT, e.g. remotePort=5432:SO_KEEPALIVE=1 (match terms k=v joined by ",", then option=value, option>=n or option<=n)');
  const matchText = spec.slice(0, cut).trim();
  // No prototype: "__proto__" or "constructor" is a key like any other, and refused as unknown (as in a policy file).
  const match: Record<string, unknown> = Object.create(null);
  if (matchText !== '' && matchText !== '*') {
    for (const term of matchText.split(',')) {
      const eq = term.indexOf('=');
      if (eq <= 0) fail(where, `match term '${term}' is not key=value`);
      const k = term.slice(0, eq).trim();
      if (Object.hasOwn(match, k)) fail(where, `match key '${k}' given twice`);
      match[k] = term.slice(eq + 1).trim();
    }
  }
  const expect: Record<string, OptionExpectation> = {};
  for (const term of spec.slice(cut + 1).split(',')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|=)\s*(.+?)\s*$/.exec(term);
    if (!m) fail(where, `expectation '${term}' is not OPTION=value, OPTION>=n or OPTION<=n`);
    const opt = optionName(where, m[1]!, known);
    const type = known.get(opt)!;
    const raw = m[3]!;
    const value: unknown = type === 'string' ? raw
      : raw === 'true' || raw === 'on' ? (type === 'linger' ? raw : true)
        : raw === 'false' || raw === 'off' ? false
          : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (m[2] === '=') {
      if (typeof value === 'string' && type !== 'string') fail(where, `${opt}: '${raw}' is not a number`);
      expect[opt] = parseExpectation(where, opt, type, value);
    } else {
      if (typeof value !== 'number') fail(where, `${opt}${m[2]}: '${raw}' is not a number`);
      const prev = expect[opt];
      const range: Record<string, number> = {};
      if (prev?.kind === 'range') {
        if (prev.min !== undefined) range.min = prev.min;
        if (prev.max !== undefined) range.max = prev.max;
      }
      range[m[2] === '>=' ? 'min' : 'max'] = value;
      expect[opt] = parseExpectation(where, opt, type, range);
    }
  }
  return { name: spec, match: parseMatch(where, match), expect, java: { has: [], not: [] }, required: false };
}
