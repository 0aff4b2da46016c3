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
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

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

function runCli(source, entry = MAIN) {
  const args = [entry, String(ready.pid), '--source', source, '--format', 'json'];
  let out;
  try {
    out = execFileSync('node', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  } catch (e) {
    // Exit 3 is a partial report: still JSON on stdout.
    if (e.status === 3 && e.stdout) out = e.stdout;
    else throw new Error(`${source}: exit ${e.status}: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
  return JSON.parse(out);
}

/**
 * Two sources' JSON reports of the same JVM, socket by socket (joined by
 * inode): every option both can read must have the same value, and the
 * Java calls must be the same, except a call that rests on what only one
 * of them can see (an option the other cannot read, e.g. the listen backlog
 * that pidfd reads from TCP_INFO and the module does not print; or a buffer
 * lock, sk_userlocks, which the module and bpf see and getsockopt does not:
 * a locked size equal to the default reads as the default).
 * Returns { diffs, onlyOne, compared, calls, sockets }.
 */
function compareReports(aName, a, bName, b) {
  const byInode = new Map(b.sockets.map((s) => [s.inode, s]));
  const read = (s, name) => s.options?.[name] !== undefined && s.options[name].value !== null;
  const text = (j) => `${j.api}.${j.call}`;
  const diffs = [];
  const onlyOne = [];
  let compared = 0, calls = 0;
  // Why `one` shows call j and `other` does not, if `other` could not know.
  const unseen = (one, other, j) => {
    const opts = j.options ?? [];
    const blind = opts.filter((o) => !read(other, o) && o !== 'SO_RCVBUF' && o !== 'SO_SNDBUF');
    if (blind.length) return blind.join(',');
    const locked = (o) => (o === 'SO_RCVBUF' && one.userLocks?.rcvbuf) || (o === 'SO_SNDBUF' && one.userLocks?.sndbuf);
    if (!other.userLocks && opts.length && opts.some(locked) && opts.every((o) => o === 'SO_RCVBUF' || o === 'SO_SNDBUF')) return 'buffer lock';
    return null;
  };
  for (const as of a.sockets) {
    const bs = byInode.get(as.inode);
    if (!bs) {
      diffs.push(`inode ${as.inode} only with ${aName}`);
      continue;
    }
    byInode.delete(as.inode);
    for (const [name, ar] of Object.entries(as.options ?? {})) {
      if (!read(as, name) || !read(bs, name)) continue;
      compared++;
      if (JSON.stringify(ar.value) !== JSON.stringify(bs.options[name].value)) {
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
  return { diffs, onlyOne, compared, calls, sockets: a.sockets.length };
}

/** One pair of sources must agree (see compareReports); prints the verdict. */
function agree(reports, aName, bName) {
  const r = compareReports(aName, reports[aName], bName, reports[bName]);
  report(r.diffs.length === 0 && r.compared > 0, `cli-${aName}-${bName}-agree`,
    r.diffs.length ? r.diffs.slice(0, 8).join('; ') : `${r.compared} option readings and ${r.calls} java calls agree on ${r.sockets} sockets`);
  if (r.onlyOne.length) console.log(`KTEST INFO calls one source cannot see: ${r.onlyOne.join('; ')}`);
}

/**
 * The CLI's per-process sources compared in the guest, every pair of them
 * on every socket: those of knetstat, pidfd and bpf that this build of the
 * CLI offers (its --source choices), or KTEST_CLI_SOURCES.
 */
function cliSources() {
  if (process.env.KTEST_CLI_SOURCES) return process.env.KTEST_CLI_SOURCES.split(/\s+/).filter(Boolean);
  const help = execFileSync('node', [MAIN, '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  const choices = /--source <name>.*?\(choices: ([^)]*)/.exec(help)?.[1] ?? '';
  return ['knetstat', 'pidfd', 'bpf'].filter((s) => choices.includes(`"${s}"`));
}

function cli() {
  if (!existsSync(MAIN)) {
    console.log('KTEST SKIP cli-sources-agree dist/cli/main.js not built (npm run build)');
    return;
  }
  const CLI_SOURCES = cliSources();
  const reports = {};
  try {
    for (const src of CLI_SOURCES) reports[src] = runCli(src);
  } catch (e) {
    report(false, 'cli-runs', e.message);
    return;
  }
  report(Object.values(reports).every((r) => Array.isArray(r.sockets)), 'cli-runs',
    CLI_SOURCES.map((src) => `${src} ${reports[src].sockets?.length} sockets`).join(', '));
  for (let i = 0; i < CLI_SOURCES.length; i++) {
    for (let j = i + 1; j < CLI_SOURCES.length; j++) agree(reports, CLI_SOURCES[i], CLI_SOURCES[j]);
  }
  // What knetstat alone can tell: the listener's locked receive buffer.
  const k = reports.knetstat;
  if (!k) return;
  const l4 = k.sockets.find((s) => s.local?.port === ready.l4 && s.state === 'LISTEN');
  const want = 'setReceiveBufferSize(65536)';
  report(!!l4?.java?.some((j) => j.call === want) && l4.userLocks?.rcvbuf === true, 'cli-knetstat-buffer-lock',
    `listener ${ready.l4}: ${JSON.stringify((l4?.java ?? []).map((j) => j.call))}`);
}

/**
 * Automatic choice: a JVM of an ordinary user, and the tool run with that
 * user's effective uid but another real uid, so pidfd_getfd is refused
 * (EPERM, as under Yama). auto must take the module's files, enrich them
 * with sock_diag, and say what it could not read (exit 3).
 */
function auto() {
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
  report(status === 3 && pidfd?.used === false && pidfd.errno === 'EPERM' && used === 'procfs:primary,knetstat:primary,sockdiag:enrich',
    'cli-auto-picks-knetstat', `exit ${status}, sources ${used}, pidfd ${pidfd?.errno}`);
  const l4 = j.sockets.find((x) => x.local?.port === ready.l4 && x.state === 'LISTEN');
  report(l4?.options?.SO_KEEPALIVE?.source === 'knetstat' && l4?.options?.backlog?.source === 'sockdiag' &&
    l4.java?.some((c) => c.call === 'setReceiveBufferSize(65536)') && (j.missing?.options ?? []).includes('TCP_MAXSEG'),
    'cli-auto-knetstat-enriched', `listener ${ready.l4}: backlog ${JSON.stringify(l4?.options?.backlog)}, calls ${JSON.stringify((l4?.java ?? []).map((c) => c.call))}, missing ${(j.missing?.options ?? []).length}${j.warnings?.length ? `, warnings: ${j.warnings.join(' | ')}` : ''}`);
}

/** Options Java cannot set, from `stress hold` (C): see stress.c. */
function hold() {
  const { listener, c1, c2, udp, pid } = ready;
  const rows = readTable('tcpstat').rows;
  const L = `127.0.0.1:${listener}`;
  const want = [
    ['hold-listener', L, '0.0.0.0:*', 'LSTN',
      'SO_REUSEADDR=0,SO_REUSEPORT=0,SO_KEEPALIVE=0,TCP_NODELAY=0,TCP_FASTOPEN=16,TCP_DEFER_ACCEPT=7'],
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
  server.close();
  udp.close();
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
  else if (mode === 'cli') cli();
  else if (mode === 'auto') auto();
  else if (mode === 'dump') dump();
  else if (mode === 'timewait') timewait();
  else if (mode === 'hold') hold();
  else if (mode === 'order') order();
  else if (mode === 'walk') await walk();
  else if (mode === 'resume') await resume();
  else if (mode === 'bpf') await bpf();
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  report(false, `${mode}-crashed`, String(e?.stack ?? e).split('\n').slice(0, 3).join(' | '));
}
process.exitCode = failed ? 1 : 0;
