// --redact: a snapshot that can leave the company. Addresses other than
// loopback and wildcard become addr-1, addr-2 ... (the same address always the
// same alias, in every field and message; a v4-mapped ::ffff:a.b.c.d keeps its
// prefix and shares the alias of a.b.c.d); ports stay. The hostname and user
// name become "redacted". Of the command line only argv[0], the main class and
// the -D properties that change socket behaviour survive; every other argument
// is "<redacted>", and so is the value of every property whose name looks like
// a secret, whatever its prefix (-Djava.net.socks.password=...). --observe's
// peers of closed connections get the same aliases, and their host names (a
// JDK 17 recording resolves peers) become "redacted". The capture is marked
// redacted: true.
import type { Capture } from '../model/types.js';

function keep(addr: string): boolean {
  const a = addr.toLowerCase();
  return a === '0.0.0.0' || a === '::' || a === '::1' || /^(::ffff:)?127\./.test(a) || a === '';
}

function base(addr: string): { prefix: string; host: string } {
  const m = /^(::ffff:)(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? { prefix: m[1]!.toLowerCase(), host: m[2]! } : { prefix: '', host: addr.toLowerCase() };
}

/** Property names that hold secrets or credentials: their values never leave the machine. */
const SECRET_NAME = /pass(?:word|wd|phrase)?|pwd|secret|token|credential|auth|key|cookie|session|private|user(?:name)?/i;

export function secretProperty(name: string): boolean {
  return SECRET_NAME.test(name);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function redactCapture(c: Capture): Capture {
  const alias = new Map<string, string>();
  const name = (addr: string): string => {
    if (keep(addr)) return addr;
    const { prefix, host } = base(addr);
    let a = alias.get(host);
    if (!a) { a = `addr-${alias.size + 1}`; alias.set(host, a); }
    return prefix + a;
  };
  const sockets = c.sockets.map((s) => ({
    ...s,
    local: { ...s.local, address: name(s.local.address) },
    remote: { ...s.remote, address: name(s.remote.address) },
  }));
  const observation = c.observation
    ? {
      ...c.observation,
      unmatched: c.observation.unmatched.map((u) => ({
        ...u, address: name(u.address), ...(u.host !== undefined ? { host: keep(u.host) || u.host === 'localhost' ? u.host : 'redacted' } : {}),
      })),
    }
    : undefined;
  const p = c.process;
  const props = p.jvm?.properties ?? {};
  const secrets: string[] = [];
  const cmdline = p.cmdline.map((arg, i) => {
    if (i === 0) return arg;
    if (p.jvm?.mainClass && arg === p.jvm.mainClass) return arg;
    const d = /^-D([^=]+)=(.*)$/s.exec(arg);
    if (d && props[d[1]!] === d[2]) {
      if (!secretProperty(d[1]!)) return arg;
      secrets.push(d[2]!);
      return `-D${d[1]}=<redacted>`;
    }
    return '<redacted>';
  });
  const jvm = p.jvm
    ? { ...p.jvm, properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, secretProperty(k) ? '<redacted>' : v])) }
    : undefined;
  const hostname = c.host.hostname;
  const user = p.user;
  let out: Capture = {
    ...c,
    host: { ...c.host, hostname: 'redacted' },
    process: { ...p, cmdline, ...(jvm ? { jvm } : {}), ...(user !== undefined ? { user: 'redacted' } : {}) },
    sockets,
    ...(observation ? { observation } : {}),
    redacted: true,
  };
  // Every other string (warnings, notes, reasons) with the same replacements: longest first,
  // whole addresses only (10.0.0.5 is not replaced inside 110.0.0.55).
  const swaps: [RegExp, string][] = [...alias.keys()].sort((a, b) => b.length - a.length)
    .map((h) => [h.includes(':')
      ? new RegExp(`(?<![0-9A-Fa-f:])${escapeRe(h)}(?![0-9A-Fa-f:])`, 'gi')
      : new RegExp(`(?<![0-9.])${escapeRe(h)}(?![0-9]|\\.[0-9])`, 'g'), alias.get(h)!]);
  if (hostname && hostname.length > 1) swaps.push([new RegExp(`(?<![\\w.-])${escapeRe(hostname)}(?![\\w-])`, 'g'), 'redacted']);
  for (const arg of [...p.cmdline.slice(1), ...secrets]) if (arg.length >= 4 && !cmdline.includes(arg)) swaps.push([new RegExp(escapeRe(arg), 'g'), '<redacted>']);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') { let s = v; for (const [re, to] of swaps) s = s.replace(re, to); return s; }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  if (swaps.length) out = walk(out) as Capture;
  return out;
}
