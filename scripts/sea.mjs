#!/usr/bin/env node
// npm run build:exe: dist/knetstat-java, one executable for hosts without Node
// (Node's single executable application support, Node >= 20.12 for assets).
//  1. bundle dist/ into one CommonJS script (scripts/bundle.mjs --sea), with its
//     V8 code cache made after the runs start.cjs's is made after;
//  2. node --experimental-sea-config: a small main script (launch() below), the
//     bundle and its cache as assets, and the bundle's own assets -> a
//     preparation blob;
//  3. copy this Node's binary, strip its debug info, blank the names of the
//     environment variables through which the environment could make it load
//     code (below), inject the blob with postject, check the result.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answeredAlone, bundle, fixedAnswers, WRAP_HEAD, WRAP_TAIL } from './bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const seaDir = join(dist, 'sea');
const OUT = join(dist, 'knetstat-java');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Read by Node's C++ or by OpenSSL before any JavaScript runs, each a way for
 * whoever sets the environment to put code or code-like data into this process
 * (test/exe.test.ts shows node honouring each and the executable not):
 * NODE_OPTIONS (--require, --import, --inspect: code), OPENSSL_CONF (its
 * providers and engines are shared objects, loaded at start-up), OPENSSL_MODULES
 * and OPENSSL_ENGINES (the directories those are loaded from), NODE_ICU_DATA
 * (data ICU trusts as its own, parsed by C++); and NODE_EXTRA_CA_CERTS, for
 * speed, not safety: Node 20 builds its whole root certificate store with that
 * file at start-up (~38 ms here, more than the rest of a start) for TLS, which
 * this tool never speaks. Node 20's SEA has no switch for
 * any of them (execArgvExtension: "none" came in later Node versions and covers
 * NODE_OPTIONS only), so the executable gets its own copy of each name with the
 * first byte zeroed: getenv("") is always NULL. (NODE_REPL_EXTERNAL_MODULE
 * needs no blanking: a SEA runs its main script, never the REPL; tested too.)
 */
export const BLANKED = ['NODE_OPTIONS', 'OPENSSL_CONF', 'OPENSSL_MODULES', 'OPENSSL_ENGINES', 'NODE_ICU_DATA', 'NODE_EXTRA_CA_CERTS'];

const printable = (b) => b === 0 || b === 10 || (b >= 0x20 && b < 0x7f);

/**
 * The C string literal of name: a NUL-delimited occurrence among other C
 * strings. Copies of the name inside V8's heap snapshot sit between binary
 * bytes and are left alone (JavaScript reads process.env, cleaned by
 * src/bundle/sea.ts). Exactly one literal per name, or the build stops: a Node
 * laid out differently needs a look, not a guess.
 */
export function cStringLiterals(bin, name) {
  const needle = Buffer.from(`\0${name}\0`, 'latin1');
  const hits = [];
  for (let i = bin.indexOf(needle); i >= 0; i = bin.indexOf(needle, i + 1)) {
    const start = i + 1;
    const around = [...bin.subarray(start - 24, start), ...bin.subarray(start + name.length, start + name.length + 24)];
    if (around.every(printable)) hits.push(start);
  }
  return hits;
}

function blank(bin, name) {
  const hits = cStringLiterals(bin, name);
  if (hits.length !== 1) throw new Error(`sea: expected one C string "${name}" in ${process.execPath}, found ${hits.length}`);
  bin[hits[0]] = 0;
}

/**
 * The executable's main script: what dist/start.cjs is to the npm package.
 * `--version` and `--help` alone are answered before the bundle is touched
 * (answeredAlone in scripts/bundle.mjs); otherwise the
 * bundle, an asset, is compiled with its code cache, another asset, made
 * after the runs that make start.cjs's (a report's analysis and renderers
 * arrive compiled; Node's own SEA code cache covers the top level only), and
 * run as CommonJS with this script's require (Node's builtins: the bundle
 * carries everything else) and the executable as its file.
 */
const launch = (alone) => `'use strict';
${alone}const { getAsset, getRawAsset } = require('node:sea');
const { Script } = require('node:vm');
const script = new Script(${JSON.stringify(WRAP_HEAD)} + getAsset('knetstat-java.cjs', 'utf8') + ${JSON.stringify(WRAP_TAIL)},
  { filename: __filename, cachedData: Buffer.from(getRawAsset('knetstat-java.cjs.cache')) });
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, __filename, __dirname);
`;

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function main() {
  const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj < 20 || (maj === 20 && min < 12)) throw new Error(`sea: Node ${process.versions.node} lacks SEA assets (needs >= 20.12)`);
  if (process.platform !== 'linux') throw new Error('sea: builds for Linux only');
  const bin0 = readFileSync(process.execPath);
  if (bin0.indexOf(FUSE) < 0) throw new Error(`sea: ${process.execPath} has no SEA fuse (a Node built without single executable support)`);

  const { outfile, assets } = await bundle({ sea: true });
  const blob = join(seaDir, 'sea-prep.blob');
  const main = join(seaDir, 'launch.cjs');
  writeFileSync(main, launch(answeredAlone(await fixedAnswers())));
  const config = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    // The main script is a few lines: the bundle's own cache is an asset.
    useCodeCache: false,
    assets: { ...JSON.parse(readFileSync(join(seaDir, 'assets.json'), 'utf8')), 'knetstat-java.cjs': outfile, 'knetstat-java.cjs.cache': `${outfile}.cache` },
  };
  writeFileSync(join(seaDir, 'sea-config.json'), `${JSON.stringify(config, null, 1)}\n`);
  const prep = spawnSync(process.execPath, ['--experimental-sea-config', join(seaDir, 'sea-config.json')], { encoding: 'utf8' });
  if (prep.status !== 0) throw new Error(`sea: node --experimental-sea-config failed: ${prep.stderr}${prep.stdout}`);

  const tmp = `${OUT}.tmp`;
  rmSync(tmp, { force: true });
  if (have('strip')) execFileSync('strip', ['--strip-all', '-o', tmp, process.execPath]);
  else copyFileSync(process.execPath, tmp);
  const bin = readFileSync(tmp);
  for (const name of BLANKED) blank(bin, name);
  writeFileSync(tmp, bin);
  const { inject } = createRequire(import.meta.url)('postject');
  // LIEF (inside postject) warns about every note section of Node's binary: noise.
  const warn = console.warn;
  console.warn = (...a) => { if (!/^warning: Can't find string offset for section name/.test(String(a[0]))) warn(...a); };
  try {
    await inject(tmp, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE });
  } finally {
    console.warn = warn;
  }
  chmodSync(tmp, 0o755);

  // It must run, say its version, and not take code from NODE_OPTIONS.
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const r = spawnSync(tmp, ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--require /nonexistent/knetstat-java-sea-check.js' } });
  if (r.status !== 0 || r.stdout.trim() !== version) throw new Error(`sea: the new executable failed its check (exit ${r.status}): ${r.stdout}${r.stderr}`);
  renameSync(tmp, OUT);
  // The executable is Node too: its license beside ours and the bundled packages'.
  const nodeLicense = ['/usr/share/doc/nodejs/LICENSE', join(process.execPath, '..', '..', 'share', 'doc', 'node', 'LICENSE')].find((f) => existsSync(f));
  writeFileSync(`${OUT}.LICENSES.txt`, `${readFileSync(`${outfile}.LICENSES.txt`, 'utf8')}\n==== Node.js ${process.version}\n\n${nodeLicense ? readFileSync(nodeLicense, 'utf8').trim() : "(Node.js's LICENSE file was not found on the build machine: ship it with the executable)"}\n`);
  const mb = (statSync(OUT).size / 1048576).toFixed(1);
  process.stdout.write(`sea: dist/knetstat-java ${mb} MiB (Node ${process.versions.node}, ${assets.length} assets)\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
