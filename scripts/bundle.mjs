#!/usr/bin/env node
// npm run build:bundle: dist/ (tsc's ESM output) -> one file per entry, with esbuild.
//   node scripts/bundle.mjs          dist/bundle.cjs (for a Node on the host) + dist/bundle-assets/
//   node scripts/bundle.mjs --sea    dist/sea/main.cjs (Node 20's SEA main script) + dist/sea/assets.json
// Both are CommonJS: Node starts a CommonJS main script without its ES module
// loader (~18 ms less than the same bundle as an ES module), and a .cjs or a
// .js outside any package.json is CommonJS wherever the file is copied.
// KNETSTAT_BUNDLE_READABLE=1 keeps lines and module markers (for --cpu-prof attribution).
// Assets (scripts/assets.mjs) are served at run time by src/assets.ts through the
// preamble each entry starts with (src/bundle/beside.ts, src/bundle/sea.ts).
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { collectAssets } from './assets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const requireHere = createRequire(join(root, 'package.json'));

/** The one koffi native package this build carries (its loader requires it by name). */
const KOFFI_PKG = `@koromix/koffi-${process.platform}-${process.arch}`;

function plugin(assets, sea) {
  return {
    name: 'knetstat',
    setup(b) {
      b.onResolve({ filter: /^knetstat:assets$/ }, () => ({ path: 'assets', namespace: 'knetstat' }));
      b.onLoad({ filter: /^assets$/, namespace: 'knetstat' }, () => ({
        loader: 'js',
        contents: `export const texts = ${JSON.stringify(assets.filter((a) => !a.binary).map((a) => [a.name, a.text ?? readFileSync(a.file, 'utf8')]))};\n`
          + `export const files = ${JSON.stringify(assets.filter((a) => a.binary).map((a) => a.name))};\n`,
      }));
      // koffi's CommonJS build names its native packages in static require()s
      // (src/static.cjs), where a bundler can see them; the ESM build does not.
      b.onResolve({ filter: /^koffi$/ }, () => ({ path: requireHere.resolve('koffi') }));
      // From koffi: ours. From ours (the bundle's fallback): Node's require at run time.
      b.onResolve({ filter: /^@koromix\/koffi-/ }, (a) => (a.namespace === 'knetstat-native' ? { path: a.path, external: true } : { path: a.path, namespace: 'knetstat-native' }));
      b.onLoad({ filter: /.*/, namespace: 'knetstat-native' }, (a) => ({ loader: 'js', resolveDir: dist, contents: nativeModule(a.path, sea) }));
      // commander requires node:child_process when it loads (+~4 ms at every start,
      // measured) but uses it only to run executable subcommands, which we have none
      // of: it gets the module at its first use instead.
      b.onResolve({ filter: /^node:child_process$/ }, (a) => (/[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'knetstat-lazy' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'knetstat-lazy' }, () => ({
        loader: 'js',
        contents: "let m; const load = () => (m ??= require('node:child_process'));\n"
          + 'module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() });\n',
      }));
    },
  };
}

/**
 * What koffi's loader gets for require('@koromix/koffi-<platform>'). The
 * executable: the carried koffi.node, nothing else (it runs where it was built).
 * The bundle: the carried one, else (another platform, musl, a missing file) the
 * package from node_modules, as koffi itself would load it: so dist/bundle.cjs
 * also works as an npm package's entry on any platform.
 */
function nativeModule(pkg, sea) {
  const fromNodeModules = `require(${JSON.stringify(pkg)})`;
  if (pkg !== KOFFI_PKG) {
    return sea ? `throw new Error(${JSON.stringify(`${pkg} is not carried by this build (${KOFFI_PKG} only)`)});\n` : `module.exports = ${fromNodeModules};\n`;
  }
  const carried = `require('./assets.js').loadNativeAsset('koffi.node')`;
  return sea ? `module.exports = ${carried};\n`
    : `try { module.exports = ${carried}; } catch (err) { try { module.exports = ${fromNodeModules}; } catch { throw err; } }\n`;
}

/**
 * Both bundles carry what they need, and may be copied anywhere (/tmp/x/, a
 * home): the folder above them is nobody's package root to read samples or
 * classes from. src/assets.ts takes this root instead, under /proc/self, where
 * nobody can create a file.
 */
const NO_ROOT = 'globalThis[Symbol.for("knetstat-java.packageRoot")] = "/proc/self/knetstat-java-has-no-package-root";';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  write: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  minifyWhitespace: !process.env.KNETSTAT_BUNDLE_READABLE,
  minifySyntax: true,
  // Function and class names as written cost a __name() call per function at load (~1,000: 1-2 ms
  // of every start); nothing reads them but stack traces and profiles (KNETSTAT_BUNDLE_READABLE keeps
  // them). test/exe.test.ts checks that every error class keeps its name (an error's name is its class's).
  keepNames: !!process.env.KNETSTAT_BUNDLE_READABLE,
  logLevel: 'warning',
  metafile: true,
};

/**
 * dist/start.cjs, the npm package's command: runs dist/bundle.cjs compiled with
 * the V8 code cache made here (bundle.cjs.cache): V8 skips parsing the whole
 * bundle (~7 ms of every start). The cache is of exactly the wrapped text below,
 * for this Node; V8 refuses one made by another Node or with other flags, and the
 * bundle is then compiled as usual. The cache is as much the package's as the
 * code beside it, and read from the same folder.
 */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAP_TAIL = '\n})';
/**
 * What the CLI (dist/cli/main.js) prints for each command line that asks only
 * for a fixed text: `--version`/`-V`, and `--help`/`-h` of the program and of
 * each command, written off a terminal (commander wraps help at a terminal's
 * width, at 80 columns anywhere else). Each run must exit 0 with nothing on
 * stderr, or the build stops.
 */
export async function fixedAnswers() {
  const { buildProgram } = await import(join(dist, 'cli', 'program.js'));
  const lines = [['--version'], ['-V'], ['--help'], ['-h']];
  for (const c of buildProgram().commands) lines.push([c.name(), '--help'], [c.name(), '-h']);
  return lines.map((args) => {
    const r = spawnSync(process.execPath, [join(dist, 'cli', 'main.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.status !== 0 || r.stderr !== '' || r.stdout === '') throw new Error(`bundle: knetstat-java ${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    return { args, text: r.stdout };
  });
}

/**
 * The start of dist/start.cjs and of the executable's main script (scripts/sea.mjs):
 * a command line of fixedAnswers() answered with the CLI's own text, without reading
 * and compiling the bundle (~6 ms of ~8 for --version, ~8 of ~9 for --help: measured). The
 * version line goes to any stdout; help only to a pipe or /dev/null, where commander
 * too would wrap at 80 columns, and where a text under PIPE_BUF (checked here) is
 * written whole or not at all: a write that fails with nothing written (EPIPE,
 * EAGAIN...) is left to the CLI, which handles each. Anything else (a terminal, a
 * file, a socket) is the CLI's.
 */
export function answeredAlone(answers) {
  const PIPE_BUF = 4096;
  const table = answers.map(({ args, text }) => {
    if (Buffer.byteLength(text) > PIPE_BUF) throw new Error(`bundle: the answer to ${args.join(' ')} is over PIPE_BUF (${PIPE_BUF} bytes): it could be half-written`);
    const anywhere = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
    return `${JSON.stringify(args.join('\0'))}: [${anywhere ? 1 : 0}, ${JSON.stringify(text)}]`;
  });
  return `const { fstatSync, readFileSync, writeSync } = require('node:fs');
const args = process.argv.slice(2);
const fixed = args.length <= 2 ? ({ __proto__: null, ${table.join(', ')} })[args.join('\\0')] : undefined;
let whole = fixed !== undefined && fixed[0] === 1;
if (fixed !== undefined && !whole) {
  // 259: /dev/null's device number (major 1, minor 3).
  try { const st = fstatSync(1); whole = st.isFIFO() || (st.isCharacterDevice() && st.rdev === 259); } catch { /* the CLI below */ }
}
if (whole) {
  const text = Buffer.from(fixed[1]);
  let done = 0;
  try { while (done < text.length) done += writeSync(1, text, done); } catch { /* the CLI below */ }
  if (done > 0) return;
}
`;
}
const start = (alone) => `#!/usr/bin/env node
'use strict';
// The knetstat-java command of the npm package (scripts/bundle.mjs writes this file):
// dist/bundle.cjs compiled with its V8 code cache, bundle.cjs.cache, when this Node accepts it.
${alone}const { createRequire } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');
const file = join(__dirname, 'bundle.cjs');
let cachedData;
try { cachedData = readFileSync(file + '.cache'); } catch { /* compiled without */ }
const script = new Script(${JSON.stringify(WRAP_HEAD)} + readFileSync(file, 'utf8') + ${JSON.stringify(WRAP_TAIL)}, { filename: file, cachedData });
// The bundle runs its CLI when argv[1] is its own file.
process.argv[1] = file;
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname);
`;

/**
 * The cache is made in a child Node after what a start compiles: `--help` (the
 * command line, commander), reports rendered from bundled sample snapshots
 * as JSON and as text (analysis and the renderers: ~5 ms of a report's first and
 * only pass, measured), and reports on the child itself through the bpf and
 * the pidfd sources (discovery, the capture, koffi's and libbpf's bindings:
 * ~3 ms of a report, measured), not only the top level. A capture the build
 * machine refuses (bpf without root) is left out of the cache, not a failure.
 * The bundle's entry exports main() for this; with argv[1] not the bundle, it
 * does not run by itself. Output goes to /dev/null (the child's stdout).
 */
const CACHE_RUNS = [
  ['render', 'samples/snapshots/bpf-locks.json', '-f', 'json'],
  ['render', 'samples/snapshots/servers.json', '-f', 'json'],
  ['render', 'samples/snapshots/clients.json', '-f', 'text'],
  ['--help'],
  ['$pid', '--any', '-q', '-f', 'json', '--source', 'bpf', '?'],
  ['$pid', '--any', '-q', '-f', 'json', '--source', 'pidfd', '?'],
];
const MAKE_CACHE = `
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');
const [file, root, runs, seaAssets] = [process.argv[1], process.argv[2], JSON.parse(process.argv[3]), process.argv[4]];
// The executable's script asks node:sea for its binary assets: here, the files they are made of.
if (seaAssets) {
  const files = JSON.parse(readFileSync(seaAssets, 'utf8'));
  require('node:sea').getRawAsset = (name) => { const b = readFileSync(files[name]); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); };
}
const script = new Script(${JSON.stringify(WRAP_HEAD)} + readFileSync(file, 'utf8') + ${JSON.stringify(WRAP_TAIL)}, { filename: file });
process.argv = [process.argv[0], '/'];
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file));
(async () => {
  for (const run of runs) {
    // '?' at the end: a run this machine may refuse.
    const optional = run.at(-1) === '?';
    const args = (optional ? run.slice(0, -1) : run).map((a) => (a.startsWith('samples/') ? join(root, a) : a === '$pid' ? String(process.pid) : a));
    await mod.exports.main([process.argv[0], file, ...args]);
    if (process.exitCode && !optional) throw new Error(\`\${run.join(' ')}: exit \${process.exitCode}\`);
    process.exitCode = 0;
  }
  writeFileSync(file + '.cache', script.createCachedData());
})();
`;

/** outfile.cache: the code cache of outfile wrapped as WRAP_HEAD/WRAP_TAIL say, made after CACHE_RUNS. */
function makeCache(outfile, seaAssets) {
  rmSync(`${outfile}.cache`, { force: true });
  const r = spawnSync(process.execPath, ['-e', MAKE_CACHE, outfile, root, JSON.stringify(CACHE_RUNS), ...(seaAssets ? [seaAssets] : [])], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`bundle: making the code cache failed: ${r.stderr}`);
}

async function writeStart(outfile) {
  const file = join(dist, 'start.cjs');
  writeFileSync(file, start(answeredAlone(await fixedAnswers())));
  chmodSync(file, 0o755);
  makeCache(outfile);
}

export { WRAP_HEAD, WRAP_TAIL };

export async function bundle({ sea = false } = {}) {
  const assets = collectAssets(root);
  const preamble = sea ? './dist/bundle/sea.js' : './dist/bundle/beside.js';
  const stdin = { contents: `import '${preamble}';\nexport { main } from './dist/cli/main.js';\n`, resolveDir: root, sourcefile: 'entry.js', loader: 'js' };
  const outfile = sea ? join(dist, 'sea', 'main.cjs') : join(dist, 'bundle.cjs');
  // import.meta.url of the ES modules bundled in: this file (in the executable,
  // __filename is the executable itself).
  const extra = {
    format: 'cjs',
    define: { 'import.meta.url': '__knetstat_import_meta_url' },
    banner: { js: `var __knetstat_import_meta_url = require("node:url").pathToFileURL(__filename).href; ${NO_ROOT}` },
  };
  const result = await build({ ...common, ...extra, stdin, outfile, plugins: [plugin(assets, sea)] });
  const binaries = assets.filter((a) => a.binary);
  if (sea) {
    const seaAssets = join(dist, 'sea', 'assets.json');
    writeFileSync(seaAssets, `${JSON.stringify(Object.fromEntries(binaries.map((a) => [a.name, a.file])), null, 1)}\n`);
    makeCache(outfile, seaAssets);
  } else {
    // The assets first: the cache's captures load koffi.node and the BPF object from there.
    const dir = join(dist, 'bundle-assets');
    rmSync(dir, { recursive: true, force: true });
    for (const a of binaries) {
      mkdirSync(dirname(join(dir, a.name)), { recursive: true });
      copyFileSync(a.file, join(dir, a.name));
    }
    await writeStart(outfile);
  }
  writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
  writeFileSync(`${outfile}.LICENSES.txt`, licenses(result.metafile));
  return { outfile, assets };
}

/** The license texts of the npm packages bundled in (their terms travel with the bundle). */
function licenses(metafile) {
  const pkgs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) pkgs.add(m[1]);
  }
  const parts = ['knetstat-java: MIT (see README.md). Bundled npm packages and their licenses follow.\n'];
  for (const pkg of [...pkgs].sort()) {
    const dir = join(root, 'node_modules', pkg);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    parts.push(`==== ${pkg} ${meta.version} (${meta.license ?? 'see below'})\n\n${file ? readFileSync(join(dir, file), 'utf8').trim() : '(no license file in the package)'}\n`);
  }
  return parts.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sea = process.argv.includes('--sea');
  const { outfile, assets } = await bundle({ sea });
  process.stdout.write(`bundle: ${outfile.slice(root.length)} (${assets.length} assets: ${assets.map((a) => a.name).join(', ')})\n`);
}
