// Checks that run inside the QEMU guest (see run.sh / guest.sh), on the raw
// text of /proc/net/*stat as the module prints it. Plain JS without the
// project's parser on purpose: this proves the module, the parser is tested
// on what is recorded here. Prints "KTEST PASS|FAIL|SKIP <name> [detail]".
//
//   node guest-checks.mjs sample '<READY json>'   check 1 (options, inodes)
//   node guest-checks.mjs diag '<READY json>'     check 3 (window indicators)
//   node guest-checks.mjs cli '<READY json>'      check 2 (CLI sources agree)
//   node guest-checks.mjs dump '<READY json>'     print the tables for samples/
//   node guest-checks.mjs timewait                TIME_WAIT rows carry no options
//   node guest-checks.mjs hold '<HOLD json>'      options Java cannot set (stress hold)
//   node guest-checks.mjs order                   many-page tables match /proc/net (stress idle)
//   node guest-checks.mjs walk                    tiny reads cost the same per row at 10x the rows
//   node guest-checks.mjs resume                  tiny reads under churn: no row lost or repeated
//   node guest-checks.mjs bpf                     what the bpf source needs: BTF, iterators, libbpf.so.1
//   node guest-checks.mjs selfcheck               bpf-selfcheck: bpf equals getsockopt, flags as set
//   node guest-checks.mjs allbpf                  --all --source bpf -f knetstat equals the module's tables
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { STABLE_FIELDS } from './stable-fields.mjs';

// The checkout this runs from (any path: CI clones elsewhere).
const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const MAIN = `${ROOT}/dist/cli/main.js`;
// What run.sh built for every guest (stress, probe), and boot.sh for this
// kernel (the module and which walkers it uses).
const COMMON = `${ROOT}/test/.work/kernel`;
const WORK = process.env.KTEST_WORK ?? COMMON;
const STRESS = `${COMMON}/stress`;
const [mode, readyJson] = process.argv.slice(2);
const ready = JSON.parse(readyJson ?? '{}');
let failed = 0;

function report(ok, name, detail = '') {
  if (!ok) failed++;
  console.log(`KTEST ${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ' ' + detail : ''}`);
}

const TCP_FILES = ['tcpstat', 'tcp6stat'];
const FILES = ['tcpstat', 'tcp6stat', 'udpstat', 'udp6stat'];
const HEADER = {
  tcp: 'Recv-Q Send-Q Local Address           Foreign Address         Stat Diag Options Inode',
  udp: 'Recv-Q Send-Q Local Address           Foreign Address         Options Inode',
};

/** Rows of one table: {recvQ, sendQ, local, remote, state, diag, options, inode, line}. */
function readTable(file) {
  const text = readFileSync(`/proc/net/${file}`, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const tcp = TCP_FILES.includes(file);
  const rows = [];
  for (const line of lines.slice(1)) {
    const t = line.trim().split(/\s+/);
    const row = { recvQ: +t[0], sendQ: +t[1], local: t[2], remote: t[3], line };
    let rest = t.slice(4);
    if (tcp) {
      row.state = rest.shift();
      row.diag = rest.length > 1 && /^[>|<#]+$/.test(rest[0]) ? rest.shift() : '';
    }
    row.inode = Number(rest.pop());
    row.options = rest.length ? rest.join(' ') : '';
    rows.push(row);
  }
  return { header: lines[0], rows, text };
}

/** Socket inodes in a /proc/net/{tcp,udp}[6] file. */
function procInodes(file) {
  const lines = readFileSync(`/proc/net/${file}`, 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => Number(l.trim().split(/\s+/)[9])).filter((n) => n !== 0);
}

function pidSocketInodes(pid) {
  const set = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) set.add(Number(m[1]));
    } catch {
      // fd closed meanwhile
    }
  }
  return set;
}

function find(rows, local, remote, state) {
  return rows.filter((r) => r.local === local && (remote === undefined || r.remote === remote) &&
    (state === undefined || r.state === state));
}

function sample() {
  const tables = Object.fromEntries(FILES.map((f) => [f, readTable(f)]));
  for (const f of FILES) {
    const want = HEADER[f.startsWith('tcp') ? 'tcp' : 'udp'];
    report(tables[f].header === want, `header-${f}`, tables[f].header === want ? '' : JSON.stringify(tables[f].header));
  }
  const { l4, c4, l6, c6, u4, u6 } = ready;
  const L4 = `127.0.0.1:${l4}`, C4 = `127.0.0.1:${c4}`, L6 = `::1:${l6}`, C6 = `::1:${c6}`;
  const expect = [
    ['tcpstat', 'listener-v4', L4, '0.0.0.0:*', 'LSTN',
      'SO_REUSEADDR=1,SO_REUSEPORT=1,SO_KEEPALIVE=0,SO_RCVBUF=65536,TCP_NODELAY=0,TCP_FASTOPEN=0,TCP_DEFER_ACCEPT=0'],
    ['tcpstat', 'client-v4', C4, L4, 'ESTB',
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_KEEPALIVE=1,TCP_KEEPIDLE=30,TCP_KEEPCNT=4,TCP_KEEPINTVL=5,SO_LINGER=7s,TCP_NODELAY=1,TCP_DEFER_ACCEPT=0'],
    ['tcpstat', 'accepted-v4', L4, C4, 'ESTB',
      'SO_REUSEADDR=1,SO_REUSEPORT=1,SO_KEEPALIVE=0,SO_RCVBUF=65536,SO_SNDBUF=32768,TCP_NODELAY=0,TCP_DEFER_ACCEPT=0'],
    // ServerSocketChannel sets SO_REUSEADDR itself (JDK default); accepted sockets inherit it.
    ['tcp6stat', 'listener-v6', L6, ':::*', 'LSTN',
      'SO_REUSEADDR=1,SO_REUSEPORT=0,SO_KEEPALIVE=0,TCP_NODELAY=0,TCP_FASTOPEN=0,TCP_DEFER_ACCEPT=0'],
    ['tcp6stat', 'client-v6', C6, L6, 'ESTB',
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_KEEPALIVE=1,TCP_NODELAY=1,TCP_DEFER_ACCEPT=0'],
    ['tcp6stat', 'accepted-v6', L6, C6, 'ESTB',
      'SO_REUSEADDR=1,SO_REUSEPORT=0,SO_KEEPALIVE=0,SO_LINGER=3s,TCP_NODELAY=0,TCP_DEFER_ACCEPT=0'],
    ['tcp6stat', 'listener-v4-mapped', `::ffff:127.0.0.1:${ready.m6}`, ':::*', 'LSTN',
      'SO_REUSEADDR=1,SO_REUSEPORT=0,SO_KEEPALIVE=0,TCP_NODELAY=0,TCP_FASTOPEN=0,TCP_DEFER_ACCEPT=0'],
    ['udpstat', 'udp-v4', `127.0.0.1:${u4}`, '0.0.0.0:*', undefined,
      'SO_REUSEADDR=1,SO_REUSEPORT=0,SO_RCVBUF=65536,SO_BROADCAST=1'],
    ['udp6stat', 'udp-v6', `::1:${u6}`, `::1:${u6}`, undefined,
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_SNDBUF=32768,SO_BROADCAST=0'],
  ];
  const fdInodes = pidSocketInodes(ready.pid);
  for (const [file, name, local, remote, state, options] of expect) {
    const rows = find(tables[file].rows, local, remote, state);
    if (rows.length !== 1) {
      report(false, `options-${name}`, `${rows.length} rows for ${local} ${remote} ${state ?? ''}`);
      continue;
    }
    const r = rows[0];
    const ok = r.options === options && (r.diag === undefined || r.diag === '');
    report(ok, `options-${name}`, ok ? '' : `got ${r.options} diag '${r.diag ?? ''}' want ${options}`);
    report(fdInodes.has(r.inode), `inode-${name}`, `${r.inode}${fdInodes.has(r.inode) ? '' : ' not among the pid fds'}`);
  }
  // Every TCP/UDP socket fd of the JVM is exactly one row of the four tables
  // (the JVM also holds sockets of other kinds, e.g. netlink).
  const all = new Map();
  for (const f of FILES) for (const r of tables[f].rows) if (r.inode) all.set(r.inode, (all.get(r.inode) ?? 0) + 1);
  const inet = new Set(['tcp', 'tcp6', 'udp', 'udp6'].flatMap(procInodes));
  const jvmInet = [...fdInodes].filter((i) => inet.has(i));
  const missing = jvmInet.filter((i) => all.get(i) !== 1);
  report(missing.length === 0 && jvmInet.length === 12, 'inode-all-fds',
    missing.length ? `not exactly once: ${missing.join(',')}` : `${jvmInet.length} TCP/UDP sockets of the JVM`);
  // One-to-one with the kernel's own /proc/net tables.
  for (const f of FILES) {
    const base = f.replace('stat', '');
    const ours = tables[f].rows.map((r) => r.inode).filter((n) => n !== 0).sort();
    const theirs = procInodes(base).sort();
    report(JSON.stringify(ours) === JSON.stringify(theirs), `same-rows-${f}`, `${ours.length} rows vs /proc/net/${base} ${theirs.length}`);
  }
  // The module is per network namespace: a fresh one has only the header.
  try {
    const out = execFileSync('unshare', ['-n', 'cat', '/proc/net/tcpstat', '/proc/net/udp6stat'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    report(lines.length === 2 && lines[0] === HEADER.tcp && lines[1] === HEADER.udp, 'netns-empty', `${lines.length} lines`);
  } catch (e) {
    report(false, 'netns-empty', String(e.message).split('\n')[0]);
  }
  // /proc/<pid>/net is the same namespace here.
  report(readFileSync(`/proc/${ready.pid}/net/tcpstat`, 'utf8').split('\n')[0] === HEADER.tcp, 'pid-net-path');
}

async function diag() {
  const W = `127.0.0.1:${ready.w}`, LD = `127.0.0.1:${ready.ld}`;
  const t0 = Date.now();
  let w, r;
  while (Date.now() - t0 < 30000) {
    const rows = readTable('tcpstat').rows;
    w = find(rows, W, LD, 'ESTB')[0];
    r = find(rows, LD, W, 'ESTB')[0];
    if (w?.diag === '>|' && r?.diag === '|<') break;
    await new Promise((res) => setTimeout(res, 500));
  }
  report(w?.diag === '>|', 'diag-writer-peer-window-zero', `${w?.line.trim() ?? 'no row'}`);
  report(r?.diag === '|<', 'diag-reader-own-window-zero', `${r?.line.trim() ?? 'no row'}`);
  report(w?.sendQ > 0 && r?.recvQ > 0, 'diag-queues', `writer Send-Q ${w?.sendQ} reader Recv-Q ${r?.recvQ}`);
  console.log(`KTEST TIME diag-window-closed ${((Date.now() - t0) / 1000).toFixed(1)}`);
}

// What strace watches in the CLI runs: fd duplication and option writes must
// never happen with --source bpf; bpf() proves the trace saw the run at all.
const TRACED = ['pidfd_getfd', 'setsockopt', 'bpf'];
const HAVE_STRACE = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * One run of the CLI (args after main.js): stdout, stderr, exit status and
 * seconds, and with trace (a name) the TRACED system calls it made, counted
 * from strace's log (filtered in the kernel: --seccomp-bpf).
 */
function tool(args, { env = {}, trace } = {}) {
  const t0 = Date.now();
  let cmd = 'node', argv = [MAIN, ...args];
  const log = trace ? `/tmp/strace.${trace}` : undefined;
  if (log) {
    argv = ['-f', '-qq', '--seccomp-bpf', '-e', `trace=${TRACED.join(',')}`, '-e', 'signal=none', '-o', log, cmd, ...argv];
    cmd = 'strace';
  }
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180000, maxBuffer: 256 << 20 });
  const out = { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error.message) : ''), secs: (Date.now() - t0) / 1000 };
  if (log) {
    out.calls = Object.fromEntries(TRACED.map((c) => [c, 0]));
    for (const line of existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []) {
      const m = /^\d+\s+(\w+)\(/.exec(line);
      if (m && m[1] in out.calls) out.calls[m[1]]++;
    }
  }
  return out;
}

/** A report of the sample JVM through one source, as JSON (exit 3, a partial report, is JSON too). */
function runCli(source, opts = {}) {
  const r = tool([String(ready.pid), ...(source === 'auto' ? [] : ['--source', source]), '--format', 'json', '-q'], opts);
  if (!(r.status === 0 || (r.status === 3 && r.stdout))) throw new Error(`${source}: exit ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
  return { json: JSON.parse(r.stdout), run: r };
}

/**
 * Two sources' JSON reports of the same JVM, socket by socket (joined by
 * inode): the socket itself (protocol, state, addresses, queues) and every
 * option both can read must have the same value, and the Java calls must be
 * the same, except a call that rests on what only one of them can see (an
 * option the other cannot read, e.g. the listen backlog that pidfd reads
 * from TCP_INFO and the module does not print; or a buffer lock,
 * sk_userlocks, which the module and bpf see and getsockopt does not: a
 * locked size equal to the default reads as the default).
 * One difference is tolerated, and counted: pidfd's Recv-Q is SIOCINQ, which
 * leaves out a received FIN, where /proc, the module and bpf count it (1 more
 * on CLOSE_WAIT and the states after it).
 * A value one source could not read (null, with its note) is not compared:
 * unread counts them by source and option (e.g. bpf's TCP_QUICKACK on 6.1,
 * whose pingpong threshold is not in BTF).
 * Returns { diffs, onlyOne, tolerated, unread, compared, calls, sockets }.
 */
function compareReports(aName, a, bName, b) {
  const byInode = new Map(b.sockets.map((s) => [s.inode, s]));
  const read = (s, name) => s.options?.[name] !== undefined && s.options[name].value !== null;
  const text = (j) => `${j.api}.${j.call}`;
  const diffs = [];
  const onlyOne = [];
  const tolerated = [];
  const unread = {};
  let compared = 0, calls = 0;
  // Why `one` shows call j and `other` does not, if `other` could not know.
  const unseen = (one, other, j) => {
    const opts = j.options ?? [];
    const blind = opts.filter((o) => !read(other, o) && o !== 'SO_RCVBUF' && o !== 'SO_SNDBUF');
    if (blind.length) return blind.join(',');
    const locked = (o) => (o === 'SO_RCVBUF' && one.userLocks?.rcvbuf) || (o === 'SO_SNDBUF' && one.userLocks?.sndbuf);
    const buffers = opts.length && opts.every((o) => o === 'SO_RCVBUF' || o === 'SO_SNDBUF');
    if (!other.userLocks && buffers && opts.some(locked)) return 'buffer lock';
    // A size guessed from the value alone (an autotuned buffer at tcp_wmem's cap is "twice a round
    // number"), which the other source's clear lock flag refutes.
    const unlocked = (o) => (o === 'SO_RCVBUF' && other.userLocks?.rcvbuf === false) || (o === 'SO_SNDBUF' && other.userLocks?.sndbuf === false);
    if (!one.userLocks && buffers && opts.every(unlocked) && j.confidence !== 'certain') return `a ${j.confidence} guess the lock flag refutes`;
    return null;
  };
  const FIN_COUNTED = new Set(['CLOSE_WAIT', 'LAST_ACK', 'CLOSING']);
  for (const as of a.sockets) {
    const bs = byInode.get(as.inode);
    if (!bs) {
      diffs.push(`inode ${as.inode} only with ${aName}`);
      continue;
    }
    byInode.delete(as.inode);
    for (const k of ['protocol', 'state', 'local', 'remote', 'recvQ', 'sendQ']) {
      compared++;
      const [x, y] = [JSON.stringify(as[k]), JSON.stringify(bs[k])];
      if (x === y) continue;
      const fin = k === 'recvQ' && as.protocol.startsWith('tcp') && FIN_COUNTED.has(as.state) &&
        ((aName === 'pidfd' && as.recvQ + 1 === bs.recvQ) || (bName === 'pidfd' && bs.recvQ + 1 === as.recvQ));
      if (fin) tolerated.push(`fd ${as.fd} ${as.state} Recv-Q ${aName} ${x} ${bName} ${y} (SIOCINQ leaves out the FIN)`);
      else diffs.push(`fd ${as.fd} ${k}: ${aName} ${x} ${bName} ${y}`);
    }
    for (const [one, oneName, other] of [[as, aName, bs], [bs, bName, as]]) {
      for (const [name, r] of Object.entries(one.options ?? {})) {
        if (r.value === null && read(other, name)) unread[`${oneName} ${name}`] = (unread[`${oneName} ${name}`] ?? 0) + 1;
      }
    }
    for (const [name, ar] of Object.entries(as.options ?? {})) {
      if (!read(as, name) || !read(bs, name)) continue;
      compared++;
      if (JSON.stringify(ar.value) !== JSON.stringify(bs.options[name].value)) {
        // mss_cache follows the peer's window (tcp_bound_to_half_wnd) and the path: two reads moments apart may differ by a few bytes.
        const y = bs.options[name].value;
        if (name === 'TCP_MAXSEG' && as.state !== 'LISTEN' && typeof ar.value === 'number' && typeof y === 'number' && Math.abs(ar.value - y) <= 64) {
          tolerated.push(`fd ${as.fd} ${as.state} TCP_MAXSEG ${aName} ${ar.value} ${bName} ${y} (mss_cache moved between the reads)`);
          continue;
        }
        diffs.push(`fd ${as.fd} ${name}: ${aName} ${JSON.stringify(ar.value)} ${bName} ${JSON.stringify(bs.options[name].value)}`);
      }
    }
    const aCalls = new Map((as.java ?? []).map((j) => [text(j), j]));
    const bCalls = new Map((bs.java ?? []).map((j) => [text(j), j]));
    for (const [one, oneName, mine, theirs, other] of [[as, aName, aCalls, bCalls, bs], [bs, bName, bCalls, aCalls, as]]) {
      for (const [t, j] of mine) {
        if (theirs.has(t)) { if (one === as) calls++; continue; }
        const why = unseen(one, other, j);
        if (why) onlyOne.push(`fd ${as.fd} ${oneName} only (${why}): ${t}`);
        else diffs.push(`fd ${as.fd} java only with ${oneName}: ${t}`);
      }
    }
  }
  for (const bs of byInode.values()) diffs.push(`inode ${bs.inode} only with ${bName}`);
  return { diffs, onlyOne, tolerated, unread, compared, calls, sockets: a.sockets.length };
}

/** One pair of sources must agree (see compareReports); prints the verdict. */
function agree(reports, aName, bName) {
  const r = compareReports(aName, reports[aName], bName, reports[bName]);
  report(r.diffs.length === 0 && r.compared > 0, `cli-${aName}-${bName}-agree`,
    r.diffs.length ? r.diffs.slice(0, 8).join('; ') : `${r.compared} socket fields and option readings and ${r.calls} java calls agree on ${r.sockets} sockets`);
  if (r.onlyOne.length) console.log(`KTEST INFO calls one source cannot see: ${r.onlyOne.join('; ')}`);
  if (r.tolerated.length) console.log(`KTEST INFO ${aName}-${bName} tolerated: ${r.tolerated.join('; ')}`);
  const unread = Object.entries(r.unread).map(([k, n]) => `${k} x${n}`);
  if (unread.length) console.log(`KTEST INFO ${aName}-${bName} not compared, one source could not read: ${unread.join(', ')}`);
  return r;
}

/**
 * The comparison must be able to fail: for each pair, a copy of one report
 * with one value broken (a socket's Recv-Q, an option both read) must show
 * exactly that difference.
 */
function comparisonCanFail(reports, pairs) {
  const out = [];
  for (const [aName, bName] of pairs) {
    const a = reports[aName], b = reports[bName];
    const bs = b.sockets.find((s) => a.sockets.some((x) => x.inode === s.inode && Object.keys(s.options).some((n) => x.options[n]?.value != null && s.options[n].value != null)));
    const as = bs && a.sockets.find((x) => x.inode === bs.inode);
    const name = bs && Object.keys(bs.options).find((n) => n !== 'TCP_MAXSEG' && typeof bs.options[n].value === 'number' && as.options[n]?.value != null);
    if (!name) { out.push(`${aName}-${bName}: no value both read`); continue; }
    for (const [what, broken] of [
      [`option ${name}`, (s) => { s.options[name] = { ...s.options[name], value: s.options[name].value + 1 }; }],
      ['Recv-Q', (s) => { s.recvQ += 7; }],
    ]) {
      const copy = { ...b, sockets: b.sockets.map((s) => (s === bs ? structuredClone(s) : s)) };
      broken(copy.sockets[b.sockets.indexOf(bs)]);
      const r = compareReports(aName, a, bName, copy);
      const caught = r.diffs.filter((d) => !d.includes('java only'));
      if (caught.length !== 1) out.push(`${aName}-${bName}: ${what} of fd ${bs.fd} broken, ${caught.length} differences seen`);
    }
  }
  report(out.length === 0, 'cli-comparison-can-fail', out.length ? out.join('; ') : `${pairs.length} pairs: a broken option and a broken Recv-Q each seen once`);
}

/**
 * What the bpf source and the module both know that getsockopt cannot: the
 * buffer lock flags (bpf userLocks and SO_RCVBUF/SO_SNDBUF.explicit, the
 * module's SO_RCVBUF/SO_SNDBUF printed only when sk_userlocks has the lock)
 * and a keepalive setting stored on the socket (bpf explicit, the module
 * prints TCP_KEEPIDLE/CNT/INTVL only when stored non-zero).
 */
function lockFlagDiffs(bpfReport, knetstatReport) {
  const byInode = new Map(knetstatReport.sockets.map((s) => [s.inode, s]));
  const diffs = [];
  let checked = 0, locked = 0, stored = 0;
  for (const b of bpfReport.sockets) {
    const k = byInode.get(b.inode);
    if (!k?.userLocks) continue;
    const printed = (n) => k.options[n] !== undefined && !k.options[n].inferred;
    const want = [
      ['userLocks.rcvbuf', b.userLocks?.rcvbuf, k.userLocks.rcvbuf],
      ['userLocks.sndbuf', b.userLocks?.sndbuf, k.userLocks.sndbuf],
      ['SO_RCVBUF.explicit', b.options.SO_RCVBUF?.explicit, printed('SO_RCVBUF')],
      ['SO_SNDBUF.explicit', b.options.SO_SNDBUF?.explicit, printed('SO_SNDBUF')],
    ];
    if (b.protocol.startsWith('tcp')) {
      for (const n of ['TCP_KEEPIDLE', 'TCP_KEEPCNT', 'TCP_KEEPINTVL']) want.push([`${n}.explicit`, b.options[n]?.explicit, printed(n)]);
    }
    for (const [name, got, module] of want) {
      checked++;
      if (got === true) name.includes('KEEP') ? stored++ : locked++;
      if (got !== module) diffs.push(`fd ${b.fd} ${name}: bpf ${got}, module ${module}`);
    }
  }
  return { diffs, checked, locked, stored };
}

function lockFlagsAgree(bpfReport, knetstatReport) {
  const r = lockFlagDiffs(bpfReport, knetstatReport);
  // The same comparison on a copy with one lock flag cleared must see exactly that.
  const victim = bpfReport.sockets.find((s) => s.userLocks?.rcvbuf);
  let control = 'no locked socket to break';
  if (victim) {
    const broken = { ...bpfReport, sockets: bpfReport.sockets.map((s) => (s === victim ? { ...s, userLocks: { ...s.userLocks, rcvbuf: false } } : s)) };
    const n = lockFlagDiffs(broken, knetstatReport).diffs.length - r.diffs.length;
    control = n === 1 ? '' : `a cleared lock flag on fd ${victim.fd} gave ${n} differences`;
  }
  report(r.diffs.length === 0 && r.locked > 0 && r.stored > 0 && !control, 'cli-bpf-knetstat-lock-flags',
    r.diffs.length ? r.diffs.slice(0, 8).join('; ') : `${r.checked} flags agree (${r.locked} buffer locks and ${r.stored} stored keepalive settings set)${control ? `; ${control}` : ''}`);
}

// KernelSample's l4 calls setOption(SO_RCVBUF, 65536) on a ServerSocketChannel; the report may name
// the classic spelling or the one every tied listener class has (the kernel cannot tell the class).
const SETS_RCVBUF_64K = ['setReceiveBufferSize(65536)', 'setOption(StandardSocketOptions.SO_RCVBUF, 65536)'];

/**
 * `--all --source bpf -f knetstat` against the module's own four tables,
 * row by row in order: the same text but for the last column (ours names
 * the processes holding the socket, the module prints its inode). Each
 * Process column must name exactly the holders of that inode that
 * /proc/<pid>/fd shows. The module's tables are read before and after the
 * tool's walk; a socket coming or going between them (a TIME_WAIT row
 * expiring) makes the comparison start again, at most 3 times.
 */
function allbpf() {
  const owners = () => {
    const m = new Map();
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let comm;
      try { comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
      for (const inode of pidSocketInodes(pid)) {
        if (!m.has(inode)) m.set(inode, new Set());
        m.get(inode).add(`${pid}/${comm}`);
      }
    }
    return m;
  };
  const tables = () => FILES.map((f) => readFileSync(`/proc/net/${f}`, 'utf8')).join('\0');
  let attempt = 0, r, before, after, held;
  do {
    before = tables();
    held = owners();
    r = tool(['--all', '--source', 'bpf', '-f', 'knetstat', '-q'], { env: { KNETSTAT_LIBBPF_DEBUG: '1' } });
    after = tables();
  } while (before !== after && ++attempt < 3);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('libbpf warning:') || (l && !l.startsWith('libbpf: ')));
  report(r.status === 0 && warnings.length === 0, 'all-bpf-runs',
    `exit ${r.status}, ${r.secs.toFixed(1)}s, ${r.stderr.split('\n').filter((l) => l.startsWith('libbpf: ')).length} libbpf debug lines${warnings.length ? `, warnings: ${warnings.slice(0, 3).join(' | ')}` : ', no warning'}${attempt ? `, ${attempt} retries (tables changed)` : ''}`);
  if (r.status !== 0) return;
  // Ours: "== tcpstat ==" titles, a header ending in Process, rows ending in the process column.
  const ours = new Map();
  for (const part of r.stdout.split(/^== /m).filter(Boolean)) {
    const [title, ...lines] = part.split('\n').filter((l) => l.length > 0);
    ours.set(title.replace(/ ==$/, ''), lines);
  }
  const cut = (line) => { const t = line.trimEnd(); const i = t.lastIndexOf(' '); return [t.slice(0, i).trimEnd(), t.slice(i + 1)]; };
  const moduleText = before.split('\0');
  let rows = 0, withOwners = 0;
  const diffs = [];
  FILES.forEach((f, n) => {
    const mod = moduleText[n].split('\n').filter((l) => l.length > 0);
    const mine = ours.get(f) ?? [];
    const [mh, ] = cut(mod[0]), [oh, oLast] = cut(mine[0] ?? '');
    if (mh !== oh || oLast !== 'Process') diffs.push(`${f} header ${JSON.stringify(mine[0])}`);
    if (mod.length !== mine.length) diffs.push(`${f}: module ${mod.length - 1} rows, ours ${mine.length - 1}`);
    for (let i = 1; i < Math.min(mod.length, mine.length); i++) {
      const [m, inode] = cut(mod[i]), [o, proc] = cut(mine[i]);
      rows++;
      if (m !== o) { diffs.push(`${f} row ${i}: module ${JSON.stringify(m)} ours ${JSON.stringify(o)}`); continue; }
      const want = inode !== '0' && held.has(Number(inode)) ? [...held.get(Number(inode))].sort().join(',') : '-';
      const got = proc === '-' ? '-' : proc.split(',').sort().join(',');
      if (want !== got) diffs.push(`${f} row ${i} (inode ${inode}): Process ${got}, /proc/*/fd ${want}`);
      else if (want !== '-') withOwners++;
    }
  });
  const kinds = ['LSTN', 'ESTB', 'TIMW', 'SYNR'].map((st) => `${moduleText.join('\n').split(` ${st} `).length - 1} ${st}`).join(', ');
  report(diffs.length === 0 && rows > 0, 'all-bpf-knetstat-tables',
    diffs.length ? diffs.slice(0, 6).join('; ') : `${rows} rows (${kinds}) as the module prints them, ${withOwners} with their processes as /proc/*/fd shows`);
}

/**
 * bpf-selfcheck: the bpf source against getsockopt on sockets of its own,
 * with libbpf's messages on (a libbpf warning fails it); its facts go to the
 * summary.
 */
function selfcheck() {
  const r = tool(['bpf-selfcheck', '--rounds', '25', '--seed', '1', '-f', 'json'], { env: { KNETSTAT_LIBBPF_DEBUG: '1' } });
  let j;
  try { j = JSON.parse(r.stdout); } catch { /* reported below */ }
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('libbpf warning:') || (l && !l.startsWith('libbpf: ')));
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const ok = r.status === 0 && j && j.kernel === release && j.compared > 1000 && j.flagsChecked > 500 &&
    j.differences.length === 0 && j.flagDifferences.length === 0 && warnings.length === 0;
  report(ok, 'bpf-selfcheck', j
    ? `exit ${r.status}, ${r.secs.toFixed(1)}s: ${j.sockets} sockets, ${j.compared - j.differences.length} of ${j.compared} values equal to getsockopt's, ${j.flagsChecked - j.flagDifferences.length} of ${j.flagsChecked} flags as set, HZ ${j.hz}${[...j.differences, ...j.flagDifferences].slice(0, 4).map((d) => `; ${d}`).join('')}${warnings.length ? `; stderr: ${warnings.slice(0, 3).join(' | ')}` : ''}`
    : `exit ${r.status}: ${r.stderr.trim().split('\n').filter((l) => !l.startsWith('libbpf: ')).slice(0, 3).join(' | ')}`);
  if (j) console.log(`KTEST BPF-FACT selfcheck=libbpf ${j.libbpf}, HZ ${j.hz}, ${j.compared} values and ${j.flagsChecked} flags on ${j.sockets} sockets`);
}

/**
 * The CLI's per-process sources compared in the guest, every pair of them
 * on every socket: those of knetstat, pidfd and bpf that this build of the
 * CLI offers (its --source choices: the source registry), or KTEST_CLI_SOURCES.
 */
async function cliSources() {
  if (process.env.KTEST_CLI_SOURCES) return process.env.KTEST_CLI_SOURCES.split(/\s+/).filter(Boolean);
  const { SOURCE_NAMES } = await import(`${ROOT}/dist/sources/index.js`);
  return ['knetstat', 'pidfd', 'bpf'].filter((s) => SOURCE_NAMES.includes(s));
}

/**
 * The sample JVM through each source, and auto as root (which must pick
 * bpf). With strace, the pidfd and bpf runs are traced: bpf must make no
 * pidfd_getfd and no setsockopt, and pidfd's pidfd_getfd calls show the trace
 * would see them. KTEST_VARIANT (the same kernel again, other module walkers)
 * skips auto and strace, which do not depend on the module.
 */
async function cli() {
  if (!existsSync(MAIN)) {
    console.log('KTEST SKIP cli-sources-agree dist/cli/main.js not built (npm run build)');
    return;
  }
  const variant = !!process.env.KTEST_VARIANT;
  const CLI_SOURCES = await cliSources();
  const trace = HAVE_STRACE && !variant;
  const reports = {}, runs = {};
  try {
    for (const src of CLI_SOURCES) {
      const traced = trace && (src === 'bpf' || src === 'pidfd');
      ({ json: reports[src], run: runs[src] } = runCli(src, { trace: traced ? src : undefined }));
    }
    if (CLI_SOURCES.includes('bpf') && !variant) ({ json: reports.auto, run: runs.auto } = runCli('auto'));
  } catch (e) {
    report(false, 'cli-runs', e.message);
    return;
  }
  report(Object.values(reports).every((r) => Array.isArray(r.sockets)), 'cli-runs',
    Object.keys(reports).map((src) => `${src} ${reports[src].sockets?.length} sockets (${runs[src].secs.toFixed(1)}s${runs[src].calls ? ', traced' : ''})`).join(', '));
  const pairs = [];
  for (let i = 0; i < CLI_SOURCES.length; i++) {
    for (let j = i + 1; j < CLI_SOURCES.length; j++) pairs.push([CLI_SOURCES[i], CLI_SOURCES[j]]);
  }
  for (const [a, b] of pairs) agree(reports, a, b);
  comparisonCanFail(reports, pairs);
  // What knetstat alone can tell: the listener's locked receive buffer.
  const k = reports.knetstat;
  if (k) {
    const l4 = k.sockets.find((s) => s.local?.port === ready.l4 && s.state === 'LISTEN');
    report(!!l4?.java?.some((j) => SETS_RCVBUF_64K.includes(j.call) && j.origin === 'application') && l4.userLocks?.rcvbuf === true, 'cli-knetstat-buffer-lock',
      `listener ${ready.l4}: ${JSON.stringify((l4?.java ?? []).map((j) => j.call))}`);
  }
  const b = reports.bpf;
  if (!b) return;
  // --source bpf answered by itself: every value read from the kernel's structures, nothing on stderr.
  const used = b.sources.filter((x) => x.used).map((x) => x.name);
  const foreign = b.sockets.flatMap((s) => Object.entries(s.options).filter(([, r]) => r.source !== 'bpf').map(([n, r]) => `fd ${s.fd} ${n} from ${r.source}`));
  const readings = b.sockets.reduce((n, s) => n + Object.keys(s.options).length, 0);
  report(used.join() === 'bpf' && foreign.length === 0 && b.sockets.length > 0 && runs.bpf.stderr.trim() === '', 'cli-bpf-answered',
    `sources used ${used.join(',')}, ${readings} readings on ${b.sockets.length} sockets${foreign.length ? `, not from bpf: ${foreign.slice(0, 4).join('; ')}` : ''}${runs.bpf.stderr.trim() ? `, stderr: ${runs.bpf.stderr.trim().slice(0, 300)}` : ''}`);
  if (k) lockFlagsAgree(b, k);
  if (reports.auto) {
    // Its values are --source bpf's (compared above); here: bpf alone answered, for the same sockets.
    const a = reports.auto;
    const autoUsed = a.sources.filter((x) => x.used).map((x) => x.name).join();
    const inodes = (r) => JSON.stringify(r.sockets.map((s) => s.inode).sort());
    const all = a.sockets.every((s) => s.sources.join() === 'bpf' && Object.values(s.options).every((o) => o.source === 'bpf'));
    report(autoUsed === 'bpf' && all && inodes(a) === inodes(b), 'cli-auto-root-picks-bpf',
      `sources used ${autoUsed}, ${a.sockets.length} sockets (--source bpf: ${b.sockets.length})${all ? ', every value from bpf' : ', values from other sources'}`);
  }
  if (!trace) {
    if (!variant) console.log('KTEST SKIP cli-bpf-strace strace not found');
    return;
  }
  const [bc, pc] = [runs.bpf.calls, runs.pidfd?.calls];
  report(bc.pidfd_getfd === 0 && bc.setsockopt === 0 && bc.bpf > 0 && (!pc || pc.pidfd_getfd > 0), 'cli-bpf-strace',
    `--source bpf: ${JSON.stringify(bc)}${pc ? `; --source pidfd (the trace sees fd duplication): ${JSON.stringify(pc)}` : ''}`);
}

/**
 * Automatic choice: a JVM of an ordinary user, and the tool run with that
 * user's effective uid but another real uid, so pidfd_getfd is refused
 * (EPERM, as under Yama). auto must take the module's files, enrich them
 * with sock_diag, and say what it could not read (exit 3).
 */
async function auto() {
  const CLI_HAS_BPF = (await cliSources()).includes('bpf');
  const uid = String(ready.uid);
  let out, status = 0;
  try {
    out = execFileSync('setpriv', ['--ruid=65534', `--euid=${uid}`, '--rgid=65534', `--egid=${uid}`, '--clear-groups',
      'node', MAIN, String(ready.pid), '--format', 'json', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  } catch (e) {
    status = e.status;
    out = e.stdout;
    if (!out) { report(false, 'cli-auto-runs', `exit ${e.status}: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`); return; }
  }
  const j = JSON.parse(out);
  const used = j.sources.filter((x) => x.used).map((x) => `${x.name}:${x.role ?? 'primary'}`).join(',');
  const pidfd = j.sources.find((x) => x.name === 'pidfd');
  // bpf, tried first, says in one line why it could not be used.
  const bpfSrc = j.sources.find((x) => x.name === 'bpf');
  if (CLI_HAS_BPF) {
    report(bpfSrc?.used === false && typeof bpfSrc.reason === 'string' && !bpfSrc.reason.includes('\n') && /CAP_BPF/.test(bpfSrc.reason),
      'cli-auto-bpf-reason', JSON.stringify(bpfSrc ?? 'bpf not among the sources'));
  }
  report(status === 3 && pidfd?.used === false && pidfd.errno === 'EPERM' && used === 'procfs:primary,knetstat:primary,sockdiag:enrich',
    'cli-auto-picks-knetstat', `exit ${status}, sources ${used}, pidfd ${pidfd?.errno}`);
  const l4 = j.sockets.find((x) => x.local?.port === ready.l4 && x.state === 'LISTEN');
  report(l4?.options?.SO_KEEPALIVE?.source === 'knetstat' && l4?.options?.backlog?.source === 'sockdiag' &&
    l4.java?.some((c) => SETS_RCVBUF_64K.includes(c.call) && c.origin === 'application') && (j.missing?.options ?? []).includes('TCP_MAXSEG'),
    'cli-auto-knetstat-enriched', `listener ${ready.l4}: backlog ${JSON.stringify(l4?.options?.backlog)}, calls ${JSON.stringify((l4?.java ?? []).map((c) => c.call))}, missing ${(j.missing?.options ?? []).length}${j.warnings?.length ? `, warnings: ${j.warnings.join(' | ')}` : ''}`);
}

/** Options Java cannot set, from `stress hold` (C): see stress.c. */
function hold() {
  const { listener, c1, c2, udp, pid } = ready;
  const rows = readTable('tcpstat').rows;
  const L = `127.0.0.1:${listener}`;
  const want = [
    ['hold-listener', L, '0.0.0.0:*', 'LSTN',
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_KEEPALIVE=0,TCP_NODELAY=0,TCP_FASTOPEN=16,TCP_DEFER_ACCEPT=63'],
    ['hold-client-timeouts', `127.0.0.1:${c1}`, L, 'ESTB',
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_KEEPALIVE=0,TCP_USER_TIMEOUT=30000,SO_RCVTIMEO=1000ms,SO_SNDTIMEO=500ms,TCP_NODELAY=0,TCP_DEFER_ACCEPT=0'],
    ['hold-client-linger0', `127.0.0.1:${c2}`, L, 'ESTB',
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_KEEPALIVE=0,SO_LINGER=0s,TCP_NODELAY=0,TCP_DEFER_ACCEPT=0'],
  ];
  const fdInodes = pidSocketInodes(pid);
  for (const [name, local, remote, state, options] of want) {
    const r = find(rows, local, remote, state);
    const ok = r.length === 1 && r[0].options === options && fdInodes.has(r[0].inode);
    report(ok, name, ok ? '' : `got ${r.map((x) => x.line.trim()).join(' / ') || 'no row'} want ${options}`);
  }
  // TCP_DEFER_ACCEPT keeps the server side of both handshakes as request sockets.
  const req = rows.filter((r) => r.local === L && r.state === 'SYNR');
  report(req.length === 2 && req.every((r) => r.options === '' && r.diag === '' && r.inode === 0), 'request-rows-no-options',
    req.map((r) => r.line.trim()).join(' / ') || 'no SYNR rows');
  const u = find(readTable('udp6stat').rows, `::1:${udp}`, ':::*');
  report(u.length === 1 && u[0].options === 'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_RCVTIMEO=1000ms,SO_BROADCAST=0', 'hold-udp6-rcvtimeo',
    u.map((x) => x.line.trim()).join(' / ') || 'no row');
}

/**
 * With `stress idle` running the tables span several seq_file pages (so
 * several start() calls per read): the same sockets in the same order as
 * the kernel's own tables.
 */
function order() {
  for (const f of FILES) {
    const base = f.replace('stat', '');
    const ours = readTable(f).rows.map((r) => r.inode).filter((n) => n !== 0);
    const theirs = procInodes(base);
    report(ours.length >= 50 && JSON.stringify(ours) === JSON.stringify(theirs), `same-order-${f}`,
      `${ours.length} rows vs /proc/net/${base} ${theirs.length}`);
  }
}

// Tables the module walks itself (KNETSTAT_OWN_*_ITER), as run.sh built it;
// the others come from the kernel's tcp_seq_*/udp_seq_*.
function ownWalker(file) {
  const walkers = existsSync(`${WORK}/walkers`) ? readFileSync(`${WORK}/walkers`, 'utf8') : '';
  return walkers.includes(file.startsWith('tcp') ? 'KNETSTAT_OWN_TCP_ITER' : 'KNETSTAT_OWN_UDP_ITER');
}

/** A /proc/net file read in read() calls of `chunk` bytes (stress read): text and CPU time. */
function tinyRead(file, chunk) {
  const r = spawnSync(STRESS, ['read', `/proc/net/${file}`, String(chunk)], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const m = /READ bytes=(\d+) reads=(\d+) cpu_ns=(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`stress read ${file} ${chunk}: exit ${r.status} ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  return { lines, rows: lines.length - 1, reads: +m[2], ns: +m[3] };
}

/** Starts `stress idle` with n sockets; resolves with its process once they are open. */
function idleSockets(n, seconds = 600) {
  const child = spawn(STRESS, ['idle', String(seconds), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('IDLE')) resolve(child); });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`stress idle ${n} exited ${code}`)));
  });
}

function stop(child) {
  child.removeAllListeners('exit');
  child.kill();
}

const PROC_BASE = (f) => f.replace('stat', '');

/**
 * The module's walkers resume where the last read() stopped. Counted, not
 * timed: the test build of the module (KNETSTAT_STATS) counts every bucket
 * and socket its walkers look at (/sys/module/knetstat/parameters/walk_steps).
 * A table read in 64-byte read() calls (one start() per row) may cost more
 * than the same table read in 4 KiB calls (one start() per page) only by
 * finding each row again in its bucket: a few steps per row, at 300 as at
 * 6,000 sockets. The old walker, which started from bucket 0 again and
 * skipped *pos rows, cost half the hash plus half the rows per row.
 *
 * Beside that, for every table (also the kernel's own iterators, which
 * cannot be counted), the reader's CPU time per row at both sizes, each
 * reading divided by that of /proc/net/tcp read just before and after it
 * (the host's load varies the time a TCG guest gets), for information.
 */
async function walk() {
  const STEPS = '/sys/module/knetstat/parameters/walk_steps';
  const TINY = 64, PAGE = 4096, MAX_EXTRA = 32, ROUNDS = 3, REF = 'tcp';
  const steps = () => Number(readFileSync(STEPS, 'utf8'));
  const counted = existsSync(STEPS);
  const files = [...FILES, 'udp'];
  const perRow = (f) => { const r = tinyRead(f, TINY); return { rows: r.rows, ns: r.ns / Math.max(r.rows, 1) }; };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const measure = () => {
    const out = {};
    for (const f of files) {
      out[f] = { rel: [] };
      if (counted && FILES.includes(f) && ownWalker(f)) {
        let s0 = steps();
        const tiny = tinyRead(f, TINY);
        const s1 = steps();
        tinyRead(f, PAGE);
        const s2 = steps();
        out[f].rows = tiny.rows;
        out[f].extra = ((s1 - s0) - (s2 - s1)) / Math.max(tiny.rows, 1);
        out[f].page = (s2 - s1) / Math.max(tiny.rows, 1);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      let before = perRow(REF).ns;
      for (const f of files) {
        const r = perRow(f);
        const after = perRow(REF).ns;
        out[f].rows = r.rows;
        out[f].rel.push(r.ns / ((before + after) / 2));
        before = after;
      }
    }
    for (const f of files) out[f].rel = median(out[f].rel);
    return out;
  };
  const small = await idleSockets(300);
  let large;
  try {
    const a = measure();
    large = await idleSockets(5700);
    const b = measure();
    for (const f of files) {
      const timed = `CPU time per row ${a[f].rel.toFixed(2)} and ${b[f].rel.toFixed(2)} x /proc/net/${REF}'s: ratio ${(b[f].rel / a[f].rel).toFixed(2)}`;
      if (a[f].extra !== undefined) {
        const ok = b[f].rows >= 5 * a[f].rows && a[f].extra < MAX_EXTRA && b[f].extra < MAX_EXTRA;
        report(ok, `walk-linear-${f}`, `own walker, ${a[f].rows} and ${b[f].rows} rows: ${a[f].extra.toFixed(2)} and ${b[f].extra.toFixed(2)} steps per row more in ${TINY}-byte than in ${PAGE}-byte reads (ratio ${((b[f].extra + 1) / (a[f].extra + 1)).toFixed(2)}; a ${PAGE}-byte read: ${a[f].page.toFixed(1)} and ${b[f].page.toFixed(1)} per row); ${timed}`);
      } else {
        const who = !FILES.includes(f) ? 'the kernel\'s table' : f.startsWith('tcp') ? 'kernel tcp_seq_* (resumes)' : 'kernel udp_seq_* (walks every earlier row on each read)';
        console.log(`KTEST INFO walk-${f} ${who}, ${a[f].rows} and ${b[f].rows} rows: ${timed}`);
      }
    }
    if (!counted && files.some((f) => FILES.includes(f) && ownWalker(f))) report(false, 'walk-counted', `no ${STEPS}: not the KNETSTAT_STATS build`);
  } finally {
    stop(small);
    if (large) stop(large);
  }
}

/**
 * Tiny read() calls while sockets come and go: every socket that stays open
 * throughout is one row of each read, exactly once, and no socket is shown
 * twice. Checked for the tables the module walks itself; for the kernel's
 * iterators the same numbers are printed for information.
 */
async function resume() {
  const idle = await idleSockets(600);
  const stopFile = '/tmp/resume.stop';
  spawnSync('rm', ['-f', stopFile]);
  let churn, churnOut = '';
  try {
    // Stable sockets per table: the idle process's, as a whole read shows them.
    const mine = pidSocketInodes(idle.pid);
    const stable = Object.fromEntries(FILES.map((f) => [f, new Set(procInodes(PROC_BASE(f)).filter((i) => mine.has(i)))]));
    churn = spawn(STRESS, ['2', '120', stopFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    churn.stdout.on('data', (d) => { churnOut += d; });
    await new Promise((res) => setTimeout(res, 1000));
    const chunks = [7, 61, 113];
    for (const f of FILES) {
      const problems = [];
      let rows = 0;
      for (const chunk of chunks) {
        const { lines } = tinyRead(f, chunk);
        const seen = new Map();
        for (const line of lines.slice(1)) {
          const t = line.trim().split(/\s+/);
          const inode = Number(t[t.length - 1]);
          if (!/^\s*\d+\s+\d+\s+\S+:\S+\s+\S+:\S+\s/.test(line) || !Number.isInteger(inode)) problems.push(`torn row ${JSON.stringify(line)}`);
          else if (inode) seen.set(inode, (seen.get(inode) ?? 0) + 1);
        }
        rows += lines.length - 1;
        const lost = [...stable[f]].filter((i) => !seen.has(i));
        const twice = [...seen].filter(([, n]) => n > 1).map(([i]) => i);
        if (lost.length) problems.push(`chunk ${chunk}: ${lost.length} stable sockets missing (${lost.slice(0, 5).join(',')})`);
        if (twice.length) problems.push(`chunk ${chunk}: ${twice.length} sockets twice (${twice.slice(0, 5).join(',')})`);
      }
      const detail = problems.length ? problems.slice(0, 4).join('; ')
        : `${chunks.length} reads (chunks ${chunks.join('/')}), ${rows} rows, each of ${stable[f].size} stable sockets once, none twice`;
      if (ownWalker(f)) report(problems.length === 0 && stable[f].size >= 50, `resume-${f}`, detail);
      else console.log(`KTEST INFO resume-${f} kernel iterator: ${detail}`);
    }
  } finally {
    spawnSync('touch', [stopFile]);
    if (churn) await new Promise((res) => { churn.on('exit', res); });
    stop(idle);
  }
  const m = /sockets=(\d+) errors=(\d+)/.exec(churnOut);
  report(!!m && +m[1] > 1000 && +m[2] === 0, 'resume-churned', churnOut.trim() || 'no output from stress');
}

/**
 * What the bpf source (--source bpf) needs from this kernel, each a check
 * and a BPF-FACT line that run.sh collects: BTF (/sys/kernel/btf/vmlinux),
 * bpffs, the iter/tcp, iter/udp and iter/task_file iterators, and the
 * host's libbpf.so.1 (over 9p) through koffi, as the tool will load it:
 * open the probe object (iter-probe.bpf.c, CO-RE), load it, attach each
 * iterator, create its fd and read it.
 */
async function bpf() {
  const fact = (k, v) => console.log(`KTEST BPF-FACT ${k}=${v}`);
  const btf = existsSync('/sys/kernel/btf/vmlinux') ? readFileSync('/sys/kernel/btf/vmlinux') : null;
  fact('btf', btf ? `yes (${btf.length} bytes)` : 'no');
  report(!!btf, 'bpf-btf', btf ? '/sys/kernel/btf/vmlinux' : 'no /sys/kernel/btf/vmlinux');
  // Names in BTF's string table tell what the bpf program's CO-RE reads will find.
  if (btf) {
    fact('task-iter-by-pid', btf.includes('BPF_TASK_ITER_TGID') ? 'yes (bpf_iter_link_info.task.pid)' : 'no');
    fact('inet_flags', btf.includes('\0inet_flags\0') ? 'yes (6.6+: inet bits in inet_flags)' : 'no (inet bitfields)');
  }
  const mounts = readFileSync('/proc/mounts', 'utf8');
  const bpffs = /^\S+ \/sys\/fs\/bpf bpf /m.test(mounts);
  fact('bpffs', bpffs ? 'mounted at /sys/fs/bpf' : 'not mounted');
  report(bpffs, 'bpf-bpffs', bpffs ? '/sys/fs/bpf' : 'not mounted');
  const obj = `${COMMON}/iter-probe.bpf.o`;
  if (!existsSync(obj)) {
    console.log('KTEST SKIP bpf-iterators probe not built on the host (clang, bpftool, host BTF)');
    return;
  }
  let lib, version;
  try {
    const koffi = createRequire(`${ROOT}/package.json`)('koffi');
    lib = koffi.load('libbpf.so.1');
    const major = lib.func('uint32_t libbpf_major_version(void)');
    const minor = lib.func('uint32_t libbpf_minor_version(void)');
    version = `${major()}.${minor()}`;
    lib = {
      open: lib.func('void *bpf_object__open_file(const char *path, void *opts)'),
      load: lib.func('int bpf_object__load(void *obj)'),
      prog: lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
      attach: lib.func('void *bpf_program__attach_iter(void *prog, void *opts)'),
      linkFd: lib.func('int bpf_link__fd(void *link)'),
      iterCreate: lib.func('int bpf_iter_create(int link_fd)'),
      destroy: lib.func('int bpf_link__destroy(void *link)'),
      close: lib.func('void bpf_object__close(void *obj)'),
    };
  } catch (e) {
    fact('libbpf', `unusable: ${String(e.message).split('\n')[0]}`);
    report(false, 'bpf-libbpf', String(e.message).split('\n')[0]);
    return;
  }
  const o = lib.open(obj, null);
  const loaded = o ? lib.load(o) : -1;
  fact('libbpf', `libbpf.so.1 ${version} via koffi: ${o && loaded === 0 ? 'opens and loads a CO-RE object' : `load failed (${loaded})`}`);
  report(!!o && loaded === 0, 'bpf-libbpf', `libbpf ${version}, CO-RE object ${o ? (loaded === 0 ? 'loaded' : `load ${loaded}`) : 'not opened'}`);
  if (!o || loaded !== 0) return;
  // Sockets of our own for the iterators to find: a TCP listener, a UDP socket.
  const server = net.createServer();
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const udp = dgram.createSocket('udp6');
  await new Promise((res) => udp.bind(0, '::1', res));
  const want = {
    tcp: [/^tcp (2|10) \d+$/, `tcp 2 ${server.address().port}`],
    udp: [/^udp (2|10) \d+$/, `udp 10 ${udp.address().port}`],
    task_file: [/^file \d+ \d+ \d+$/, `file ${process.pid} `],
  };
  for (const [it, [re, mine]] of Object.entries(want)) {
    const link = lib.attach(lib.prog(o, `probe_${it}`), null);
    const fd = link ? lib.iterCreate(lib.linkFd(link)) : -1;
    let text = '';
    if (fd >= 0) {
      const buf = Buffer.alloc(1 << 16);
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) text += buf.toString('utf8', 0, n);
      closeSync(fd);
    }
    if (link) lib.destroy(link);
    const lines = text.split('\n').filter(Boolean);
    const ok = lines.length > 0 && lines.every((l) => re.test(l)) && lines.some((l) => l.startsWith(mine));
    fact(`iter/${it}`, ok ? `yes (${lines.length} objects)` : link ? `attached, read ${lines.length} lines` : 'no (attach failed)');
    report(ok, `bpf-iter-${it}`, `${lines.length} objects, ours among them (${mine.trim()})${ok ? '' : `: ${JSON.stringify(lines.slice(0, 2))}`}`);
  }
  lib.close(o);
  await kernelLoader();
  server.close();
  udp.close();
}

/**
 * The tool's own object as a capture loads it: through libbpf's generated
 * loader, run by this kernel (linux/bpfloader.ts), and the same walk with
 * libbpf's own load (KNETSTAT_BPF_LOADER=libbpf) for comparison: the same
 * sockets, record for record (this process's sockets hold still meanwhile).
 */

async function kernelLoader() {
  if (!existsSync(`${ROOT}/dist/linux/bpfwalk.js`)) {
    console.log('KTEST SKIP bpf-kernel-loader dist/ not built (npm run build)');
    return;
  }
  const { loadObject, walkProcess } = await import(`${ROOT}/dist/linux/bpfwalk.js`);
  const walk = (env) => {
    if (env) process.env.KNETSTAT_BPF_LOADER = env;
    else delete process.env.KNETSTAT_BPF_LOADER;
    const o = loadObject(['knetstat_task_file']);
    const by = o.loadedBy;
    const w = walkProcess(process.pid, o);
    const h = loadObject(['knetstat_tcp', 'knetstat_udp', 'knetstat_owners']);
    const hostBy = h.loadedBy;
    h.close();
    // What the program read from each socket through CO-RE, not the clock or counters.
    const recs = w.socks.map((r) => STABLE_FIELDS.map((f) => String(r[f])).join(' ')).sort();
    return { by, hostBy, recs };
  };
  let k, l;
  try {
    k = walk();
    l = walk('libbpf');
  } catch (e) {
    report(false, 'bpf-kernel-loader', String(e.message).split('\n')[0]);
    return;
  } finally {
    delete process.env.KNETSTAT_BPF_LOADER;
  }
  console.log(`KTEST BPF-FACT loader=${k.by} (task_file), ${k.hostBy} (tcp, udp, owners)`);
  const same = JSON.stringify(k.recs) === JSON.stringify(l.recs);
  report(k.by === 'kernel loader' && k.hostBy === 'kernel loader' && l.by === 'libbpf' && same && k.recs.length >= 2, 'bpf-kernel-loader',
    `loaded by ${k.by} / ${k.hostBy} (libbpf asked: ${l.by}), ${k.recs.length} sockets of this process${same ? ', the same as libbpf\'s load' : `; libbpf's load: ${l.recs.length}`}`);
}

function timewait() {
  const rows = ['tcpstat', 'tcp6stat'].flatMap((f) => readTable(f).rows).filter((r) => r.state === 'TIMW');
  const bad = rows.filter((r) => r.options !== '' || r.diag !== '' || r.inode !== 0);
  report(rows.length > 0 && bad.length === 0, 'timewait-rows-no-options',
    `${rows.length} TIME_WAIT rows${bad.length ? `, with options or inode: ${bad[0].line}` : ''}`);
}

function dump() {
  const files = [...FILES, 'tcp', 'tcp6', 'udp', 'udp6'];
  for (const f of files) {
    console.log(`KTEST-FILE-BEGIN ${f}`);
    process.stdout.write(readFileSync(`/proc/net/${f}`, 'utf8'));
    console.log(`KTEST-FILE-END ${f}`);
  }
  console.log('KTEST-FILE-BEGIN fds');
  for (const fd of readdirSync(`/proc/${ready.pid}/fd`)) {
    try {
      const l = readlinkSync(`/proc/${ready.pid}/fd/${fd}`);
      if (l.startsWith('socket:')) console.log(`${fd} ${l}`);
    } catch {
      // gone
    }
  }
  console.log('KTEST-FILE-END fds');
  console.log(`KTEST-FILE-BEGIN ready\n${JSON.stringify(ready)}\nKTEST-FILE-END ready`);
}

// A crash in a callback is a failed check too, not a silent exit.
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    report(false, `${mode}-crashed`, String(e?.stack ?? e).split('\n').slice(0, 3).join(' | '));
    process.exit(1);
  });
}

try {
  if (mode === 'sample') sample();
  else if (mode === 'diag') await diag();
  else if (mode === 'cli') await cli();
  else if (mode === 'auto') await auto();
  else if (mode === 'dump') dump();
  else if (mode === 'timewait') timewait();
  else if (mode === 'hold') hold();
  else if (mode === 'order') order();
  else if (mode === 'walk') await walk();
  else if (mode === 'resume') await resume();
  else if (mode === 'bpf') await bpf();
  else if (mode === 'allbpf') allbpf();
  else if (mode === 'selfcheck') selfcheck();
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  report(false, `${mode}-crashed`, String(e?.stack ?? e).split('\n').slice(0, 3).join(' | '));
}
process.exitCode = failed ? 1 : 0;
