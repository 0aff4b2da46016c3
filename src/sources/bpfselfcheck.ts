// The bpf source checked against the kernel itself, with nothing but this
// process: it makes TCP and UDP sockets of every kind (listeners, clients,
// accepted, unconnected; IPv4, IPv6, dual stack), sets a seeded mix of options
// on them, then reads them twice: through the BPF walk and through
// getsockopt() on the same fds. Every value both read must be equal, and the
// kernel's own flags (buffer and bind locks, stored keepalive times, the
// congestion control's setsockopt bit, the user MSS and timeout) must say
// exactly what this program set. `knetstat-java bpf-selfcheck` runs it; it
// needs no JVM, so it runs in a minimal guest too.
import { release } from 'node:os';
import type { SysError } from '../errors.js';
import { walkHz, walkProcess } from '../linux/bpfwalk.js';
import { AF_INET, AF_INET6, ERRNO, SOCK_DGRAM, SOCK_STREAM } from '../linux/inet.js';
import { libbpfVersion } from '../linux/libbpf.js';
import * as sc from '../linux/sockcalls.js';
import { identify, readSocket } from '../linux/sockopt.js';
import { readSysctls } from '../linux/sysctl.js';
import { mappings } from '../mappings.js';
import type { OptionValue, RawSocket } from '../model/types.js';
import { socketFromRecord } from './bpf.js';

const { EADDRINUSE } = ERRNO;

/** An option's (level, optname), from the catalog (mappings/kernel-options.json): no second table of numbers. */
const optionNumbers = new Map<string, [number, number]>();
function numbersOf(name: string): [number, number] {
  let n = optionNumbers.get(name);
  if (!n) {
    const o = mappings().kernel.find((k) => k.name === name);
    if (!o) throw new Error(`${name} is not in mappings/kernel-options.json`);
    optionNumbers.set(name, (n = [o.levelNum, o.optname]));
  }
  return n;
}

/** What this program set on one socket (or its listener, for an accepted one): the flags the kernel must show. */
interface Intent {
  rcvbuf: boolean; sndbuf: boolean; keepidle: boolean; keepintvl: boolean; keepcnt: boolean;
  congestion: boolean; maxseg: boolean; userTimeout: boolean; bindAddr: boolean; bindPort: boolean;
}

interface Made { fd: number; what: string; intent: Intent }

export interface SelfCheckResult {
  kernel: string;
  libbpf?: string;
  hz: number;
  seed: number;
  sockets: number;
  /** Values compared with getsockopt's (and addresses, state). */
  compared: number;
  differences: string[];
  /** Lock and explicit flags compared with what was set. */
  flagsChecked: number;
  flagDifferences: string[];
}

/** mulberry32: a small seeded generator, so a failing mix can be made again. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function congestionControls(): string[] {
  return readSysctls(['net.ipv4.tcp_available_congestion_control'])['net.ipv4.tcp_available_congestion_control']?.split(' ') ?? ['reno'];
}

const noIntent = (): Intent => ({
  rcvbuf: false, sndbuf: false, keepidle: false, keepintvl: false, keepcnt: false,
  congestion: false, maxseg: false, userTimeout: false, bindAddr: false, bindPort: false,
});

class Maker {
  readonly made: Made[] = [];
  private readonly rnd: () => number;
  private readonly cc = congestionControls();
  constructor(seed: number) { this.rnd = prng(seed); }

  private chance(p: number): boolean { return this.rnd() < p; }
  private pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.rnd() * xs.length)]!; }
  private int(lo: number, hi: number): number { return lo + Math.floor(this.rnd() * (hi - lo + 1)); }

  /** setsockopt that may be refused (SO_MARK without CAP_NET_ADMIN...): true when it was applied. */
  private set(fd: number, option: string, v: Parameters<typeof sc.setsockopt>[3]): boolean {
    const [level, name] = numbersOf(option);
    try { sc.setsockopt(fd, level, name, v); return true; } catch { return false; }
  }

  /** Options every socket kind has; sometimes none, so defaults are checked too. */
  private common(fd: number, family: number, intent: Intent): void {
    if (this.chance(0.2)) return;
    if (this.chance(0.4)) intent.rcvbuf = this.set(fd, 'SO_RCVBUF', this.pick([2048, 4096, 65536, 131072, 212992, 1 << 20]));
    if (this.chance(0.4)) intent.sndbuf = this.set(fd, 'SO_SNDBUF', this.pick([4608, 16384, 65536, 1 << 20]));
    if (this.chance(0.3)) this.set(fd, 'SO_LINGER', { onoff: this.int(0, 1), linger: this.pick([0, 1, 5, 30, 3600]) });
    if (this.chance(0.3)) this.set(fd, 'SO_RCVTIMEO', { ms: this.pick([1, 3, 10, 999, 1500, 60000]) });
    if (this.chance(0.3)) this.set(fd, 'SO_SNDTIMEO', { ms: this.pick([2, 7, 250, 5000]) });
    if (this.chance(0.3)) this.set(fd, 'SO_PRIORITY', this.int(0, 6));
    if (this.chance(0.2)) this.set(fd, 'SO_MARK', this.int(1, 0xffff));
    if (this.chance(0.3)) this.set(fd, 'IP_TOS', this.pick([0x10, 0x20, 0x28, 0xb8]));
    if (family === AF_INET6 && this.chance(0.3)) this.set(fd, 'IPV6_TCLASS', this.pick([-1, 0, 0x20, 0xb8, 255]));
    if (this.chance(0.3)) this.set(fd, 'SO_REUSEADDR', this.int(0, 1));
    if (this.chance(0.2)) this.set(fd, 'SO_KEEPALIVE', this.int(0, 1));
  }

  private tcp(fd: number, intent: Intent, connected: boolean): void {
    if (this.chance(0.5)) this.set(fd, 'TCP_NODELAY', this.int(0, 1));
    if (this.chance(0.4)) intent.keepidle = this.set(fd, 'TCP_KEEPIDLE', this.pick([1, 60, 600, 7200, 32767]));
    if (this.chance(0.4)) intent.keepintvl = this.set(fd, 'TCP_KEEPINTVL', this.pick([1, 10, 75, 32767]));
    if (this.chance(0.4)) intent.keepcnt = this.set(fd, 'TCP_KEEPCNT', this.pick([1, 3, 9, 127]));
    if (this.chance(0.3)) intent.congestion = this.set(fd, 'TCP_CONGESTION', this.pick(this.cc));
    if (!connected && this.chance(0.3)) intent.maxseg = this.set(fd, 'TCP_MAXSEG', this.pick([536, 1000, 1400, 8960]));
    if (this.chance(0.3)) intent.userTimeout = this.set(fd, 'TCP_USER_TIMEOUT', this.pick([1, 999, 30000, 600000]));
    if (this.chance(0.3)) this.set(fd, 'TCP_NOTSENT_LOWAT', this.pick([1, 16384, 131072]));
    if (this.chance(0.2)) this.set(fd, 'SO_OOBINLINE', 1);
    if (connected && this.chance(0.4)) this.set(fd, 'TCP_QUICKACK', this.int(0, 1));
  }

  /** bind() as an application would: the wildcard or loopback, port 0 or a port of its choice. */
  private bind(fd: number, family: number, intent: Intent): void {
    const addr = this.chance(0.5) ? 'loopback' : 'any';
    const own = this.chance(0.5);
    for (let tries = 0; ; tries++) {
      // A port of our choice: one the kernel just gave a probe socket on the wildcard address.
      let port = 0;
      if (own) {
        const probe = sc.socket(family, SOCK_STREAM);
        try { sc.bind(probe, sc.sockaddr(family, 0, 'any')); port = sc.localPort(probe); } finally { sc.closeFd(probe); }
      }
      try {
        sc.bind(fd, sc.sockaddr(family, port, addr));
      } catch (err) {
        // Taken by someone else meanwhile: another one (a failed bind sets no lock).
        if (own && tries < 5 && (err as SysError).code === EADDRINUSE) continue;
        throw err;
      }
      intent.bindAddr = addr === 'loopback';
      intent.bindPort = port !== 0;
      return;
    }
  }

  private add(fd: number, what: string, intent: Intent): void {
    this.made.push({ fd, what, intent });
  }

  /** A listener, a client of it and the accepted socket; sometimes an unconnected socket too. */
  tcpRound(i: number): void {
    const family = this.chance(0.5) ? AF_INET : AF_INET6;
    const dual = family === AF_INET6 && this.chance(0.4);
    const ln = sc.socket(family, SOCK_STREAM);
    const li = noIntent();
    if (family === AF_INET6) this.set(ln, 'IPV6_V6ONLY', dual ? 0 : this.int(0, 1));
    if (this.chance(0.3)) this.set(ln, 'SO_REUSEPORT', 1);
    this.common(ln, family, li);
    this.tcp(ln, li, false);
    if (dual) {
      sc.bind(ln, sc.sockaddr(family, 0, 'any'));
    } else {
      this.bind(ln, family, li);
    }
    if (this.chance(0.4)) this.set(ln, 'TCP_FASTOPEN', this.pick([1, 16, 128]));
    sc.listen(ln, this.pick([1, 50, 128, 4096]));
    this.add(ln, `round ${i} tcp${family === AF_INET6 ? '6' : ''} listener${dual ? ' (dual stack)' : ''}`, li);
    const port = sc.localPort(ln);

    const clientFamily = dual && this.chance(0.5) ? AF_INET : family;
    const cl = sc.socket(clientFamily, SOCK_STREAM);
    const ci = noIntent();
    this.common(cl, clientFamily, ci);
    this.tcp(cl, ci, false);
    if (this.chance(0.3)) {
      // A client bound before it connects: loopback, port 0 (a port of its own would collide less rarely).
      sc.bind(cl, sc.sockaddr(clientFamily, 0, 'loopback'));
      ci.bindAddr = true;
    }
    sc.connect(cl, sc.sockaddr(clientFamily, port, 'loopback'));
    this.add(cl, `round ${i} client`, ci);
    const ac = sc.accept(ln);
    // Set after the accept: a deferred accept would wait for data this client never sends.
    if (this.chance(0.4)) this.set(ln, 'TCP_DEFER_ACCEPT', this.pick([1, 3, 7, 15, 60, 200, 1000]));
    // An accepted socket starts as a copy of its listener (sk_clone_lock): it carries the listener's
    // flags, except the port lock, which sk_clone_lock clears.
    const ai: Intent = { ...li, bindPort: false };
    this.common(ac, family, ai);
    this.tcp(ac, ai, true);
    this.add(ac, `round ${i} accepted`, ai);

    if (this.chance(0.5)) {
      const un = sc.socket(family, SOCK_STREAM);
      const ui = noIntent();
      this.common(un, family, ui);
      this.tcp(un, ui, false);
      if (this.chance(0.5)) this.bind(un, family, ui);
      this.add(un, `round ${i} unconnected tcp`, ui);
    }
  }

  udpRound(i: number): void {
    const family = this.chance(0.5) ? AF_INET : AF_INET6;
    const fd = sc.socket(family, SOCK_DGRAM);
    const ui = noIntent();
    if (family === AF_INET6) this.set(fd, 'IPV6_V6ONLY', this.int(0, 1));
    this.common(fd, family, ui);
    if (this.chance(0.4)) this.set(fd, 'SO_BROADCAST', 1);
    if (this.chance(0.4)) this.set(fd, 'IP_MULTICAST_TTL', this.int(0, 255));
    if (this.chance(0.4)) this.set(fd, 'IP_MULTICAST_LOOP', this.int(0, 1));
    if (this.chance(0.3)) this.set(fd, 'IP_MULTICAST_ALL', this.int(0, 1));
    if (family === AF_INET6 && this.chance(0.4)) this.set(fd, 'IPV6_MULTICAST_HOPS', this.int(-1, 255));
    if (family === AF_INET6 && this.chance(0.4)) this.set(fd, 'IPV6_MULTICAST_LOOP', this.int(0, 1));
    if (this.chance(0.7)) this.bind(fd, family, ui);
    if (this.chance(0.3)) sc.connect(fd, sc.sockaddr(family, this.int(1024, 65000), 'loopback'));
    this.add(fd, `round ${i} udp${family === AF_INET6 ? '6' : ''}`, ui);
  }

  closeAll(): void {
    for (const m of this.made) sc.closeFd(m.fd);
  }
}

const same = (a: OptionValue | null, b: OptionValue | null) => JSON.stringify(a) === JSON.stringify(b);

function compareFlags(s: RawSocket, m: Made, out: string[]): number {
  const want: [string, boolean | undefined, boolean][] = [
    ['userLocks.rcvbuf', s.userLocks?.rcvbuf, m.intent.rcvbuf],
    ['userLocks.sndbuf', s.userLocks?.sndbuf, m.intent.sndbuf],
    ['bindLocks.addr', s.bindLocks?.addr, m.intent.bindAddr],
    ['bindLocks.port', s.bindLocks?.port, m.intent.bindPort],
    ['SO_RCVBUF.explicit', s.options.SO_RCVBUF?.explicit, m.intent.rcvbuf],
    ['SO_SNDBUF.explicit', s.options.SO_SNDBUF?.explicit, m.intent.sndbuf],
  ];
  if (s.protocol.startsWith('tcp')) {
    want.push(
      ['TCP_KEEPIDLE.explicit', s.options.TCP_KEEPIDLE?.explicit, m.intent.keepidle],
      ['TCP_KEEPINTVL.explicit', s.options.TCP_KEEPINTVL?.explicit, m.intent.keepintvl],
      ['TCP_KEEPCNT.explicit', s.options.TCP_KEEPCNT?.explicit, m.intent.keepcnt],
      ['TCP_CONGESTION.explicit', s.options.TCP_CONGESTION?.explicit ?? false, m.intent.congestion],
      // Non-zero user values prove a call; 0 leaves the flag absent.
      ['TCP_MAXSEG.explicit', s.options.TCP_MAXSEG?.explicit ?? false, m.intent.maxseg],
      ['TCP_USER_TIMEOUT.explicit', s.options.TCP_USER_TIMEOUT?.explicit ?? false, m.intent.userTimeout],
    );
  }
  for (const [name, got, expect] of want) {
    if (got !== expect) out.push(`${m.what} (fd ${m.fd}, ${s.protocol} ${s.state}): ${name} is ${got}, this program ${expect ? 'set it' : 'did not set it'}`);
  }
  return want.length;
}

export function bpfSelfCheck(opts: { seed?: number; rounds?: number } = {}): SelfCheckResult {
  const seed = opts.seed ?? 1;
  const rounds = opts.rounds ?? 12;
  const maker = new Maker(seed);
  try {
    for (let i = 0; i < rounds; i++) { maker.tcpRound(i); maker.udpRound(i); }
    const walk = walkProcess(process.pid);
    const hz = walkHz(walk, 'task_file iterator');
    const byFd = new Map(walk.socks.map((r) => [r.fd, r]));
    const res: SelfCheckResult = {
      kernel: release(), libbpf: libbpfVersion(), hz, seed, sockets: maker.made.length,
      compared: 0, differences: [], flagsChecked: 0, flagDifferences: [],
    };
    for (const m of maker.made) {
      const rec = byFd.get(m.fd);
      if (!rec) { res.differences.push(`${m.what} (fd ${m.fd}): not seen by the BPF walk`); continue; }
      const b = socketFromRecord(rec, hz, m.fd);
      const id = identify(m.fd);
      if (!id) { res.differences.push(`${m.what} (fd ${m.fd}): getsockopt cannot identify it`); continue; }
      const g = readSocket(m.fd, id, 'pidfd');
      for (const k of ['protocol', 'state', 'local', 'remote'] as const) {
        res.compared++;
        if (JSON.stringify(b[k]) !== JSON.stringify(g[k])) res.differences.push(`${m.what} (fd ${m.fd}): ${k} bpf ${JSON.stringify(b[k])}, getsockopt ${JSON.stringify(g[k])}`);
      }
      for (const [name, gr] of Object.entries(g.options)) {
        const br = b.options[name];
        if (!br) { res.differences.push(`${m.what} (fd ${m.fd}): ${name} not read by bpf`); continue; }
        if (br.value === null || gr.value === null) continue;
        res.compared++;
        if (!same(br.value, gr.value)) res.differences.push(`${m.what} (fd ${m.fd}, ${b.protocol} ${b.state}): ${name} bpf ${JSON.stringify(br.value)}, getsockopt ${JSON.stringify(gr.value)}`);
      }
      res.flagsChecked += compareFlags(b, m, res.flagDifferences);
    }
    return res;
  } finally {
    maker.closeAll();
  }
}
