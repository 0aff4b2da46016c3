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
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The checkout this runs from (any path: CI clones elsewhere).
const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const MAIN = `${ROOT}/dist/cli/main.js`;
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

function cli() {
  if (!existsSync(MAIN)) {
    console.log('KTEST SKIP cli-sources-agree dist/cli/main.js not built (npm run build)');
    return;
  }
  let k, p;
  try {
    k = runCli('knetstat');
    p = runCli('pidfd');
  } catch (e) {
    report(false, 'cli-runs', e.message);
    return;
  }
  report(Array.isArray(k.sockets) && Array.isArray(p.sockets), 'cli-runs', `knetstat ${k.sockets?.length} sockets, pidfd ${p.sockets?.length}`);
  const byInode = new Map(p.sockets.map((s) => [s.inode, s]));
  const read = (s, name) => s.options?.[name] !== undefined && s.options[name].value !== null;
  const diffs = [];
  const onlyOne = [];
  let compared = 0, calls = 0;
  for (const ks of k.sockets) {
    const ps = byInode.get(ks.inode);
    if (!ps) {
      diffs.push(`inode ${ks.inode} only with knetstat`);
      continue;
    }
    for (const [name, kr] of Object.entries(ks.options ?? {})) {
      if (!read(ks, name) || !read(ps, name)) continue;
      compared++;
      if (JSON.stringify(kr.value) !== JSON.stringify(ps.options[name].value)) {
        diffs.push(`fd ${ks.fd} ${name}: knetstat ${JSON.stringify(kr.value)} pidfd ${JSON.stringify(ps.options[name].value)}`);
      }
    }
    // The java calls must be the same, except where one source cannot see
    // what a call set: the listen backlog (pidfd reads it from TCP_INFO,
    // knetstat does not print it) and buffer sizes whose lock only knetstat
    // sees (a locked value that equals the autotuning default looks like the
    // default to pidfd).
    const text = (j) => `${j.api}.${j.call}`;
    const locked = (o) => (o === 'SO_RCVBUF' && ks.userLocks?.rcvbuf) || (o === 'SO_SNDBUF' && ks.userLocks?.sndbuf);
    const kSet = new Map((ks.java ?? []).map((j) => [text(j), j]));
    const pSet = new Map((ps.java ?? []).map((j) => [text(j), j]));
    for (const [t, j] of kSet) {
      if (pSet.has(t)) { calls++; continue; }
      if ((j.options ?? []).some(locked) && (j.options ?? []).every((o) => o.startsWith('SO_') && o.endsWith('BUF'))) onlyOne.push(`fd ${ks.fd} knetstat only (buffer lock): ${t}`);
      else diffs.push(`fd ${ks.fd} java only with knetstat: ${t}`);
    }
    for (const [t, j] of pSet) {
      if (kSet.has(t)) continue;
      if ((j.options ?? []).includes('backlog') && !read(ks, 'backlog')) onlyOne.push(`fd ${ks.fd} pidfd only (backlog): ${t}`);
      else diffs.push(`fd ${ks.fd} java only with pidfd: ${t}`);
    }
  }
  report(diffs.length === 0 && compared > 0, 'cli-sources-agree',
    (diffs.length ? diffs.slice(0, 8).join('; ') : `${compared} option readings and ${calls} java calls agree on ${k.sockets.length} sockets`));
  if (onlyOne.length) console.log(`KTEST INFO calls one source cannot see: ${onlyOne.join('; ')}`);
  // What knetstat alone can tell: the listener's locked receive buffer.
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

try {
  if (mode === 'sample') sample();
  else if (mode === 'diag') await diag();
  else if (mode === 'cli') cli();
  else if (mode === 'auto') auto();
  else if (mode === 'dump') dump();
  else if (mode === 'timewait') timewait();
  else if (mode === 'hold') hold();
  else if (mode === 'order') order();
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  report(false, `${mode}-crashed`, String(e?.stack ?? e).split('\n').slice(0, 3).join(' | '));
}
process.exitCode = failed ? 1 : 0;
