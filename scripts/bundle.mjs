#!/usr/bin/env node
// npm run build:bundle: dist/ (tsc's ESM output) -> one file per entry, with esbuild.
//   node scripts/bundle.mjs          dist/bundle.js (ESM, for a Node on the host) + dist/bundle-assets/
//   node scripts/bundle.mjs --sea    dist/sea/main.cjs (CommonJS: Node 20's SEA main script) + dist/sea/assets.json
// KNETSTAT_BUNDLE_READABLE=1 keeps lines and module markers (for --cpu-prof attribution).
// Assets (scripts/assets.mjs) are served at run time by src/assets.ts through the
// preamble each entry starts with (src/bundle/beside.ts, src/bundle/sea.ts).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    },
  };
}

/**
 * What koffi's loader gets for require('@koromix/koffi-<platform>'). The
 * executable: the carried koffi.node, nothing else (it runs where it was built).
 * The bundle: the carried one, else (another platform, musl, a missing file) the
 * package from node_modules, as koffi itself would load it: so dist/bundle.js
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
  keepNames: true,
  logLevel: 'warning',
  metafile: true,
};

export async function bundle({ sea = false } = {}) {
  const assets = collectAssets(root);
  const preamble = sea ? './dist/bundle/sea.js' : './dist/bundle/beside.js';
  const stdin = { contents: `import '${preamble}';\nimport './dist/cli/main.js';\n`, resolveDir: root, sourcefile: 'entry.js', loader: 'js' };
  let outfile, extra;
  if (sea) {
    outfile = join(dist, 'sea', 'main.cjs');
    // The SEA main script is CommonJS run from the executable: there
    // import.meta.url is the executable itself (__filename is execPath there).
    extra = {
      format: 'cjs',
      define: { 'import.meta.url': '__knetstat_import_meta_url' },
      banner: { js: `var __knetstat_import_meta_url = require("node:url").pathToFileURL(__filename).href; ${NO_ROOT}` },
    };
  } else {
    outfile = join(dist, 'bundle.js');
    // koffi's CommonJS code in an ES module: give it require and __filename.
    extra = {
      format: 'esm',
      banner: { js: `import { createRequire as __knj_cr } from "node:module"; import { fileURLToPath as __knj_fu } from "node:url"; const require = __knj_cr(import.meta.url); const __filename = __knj_fu(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf("/")); ${NO_ROOT}` },
    };
  }
  const result = await build({ ...common, ...extra, stdin, outfile, plugins: [plugin(assets, sea)] });
  const binaries = assets.filter((a) => a.binary);
  if (sea) {
    writeFileSync(join(dist, 'sea', 'assets.json'), `${JSON.stringify(Object.fromEntries(binaries.map((a) => [a.name, a.file])), null, 1)}\n`);
  } else {
    const dir = join(dist, 'bundle-assets');
    rmSync(dir, { recursive: true, force: true });
    for (const a of binaries) {
      mkdirSync(dirname(join(dir, a.name)), { recursive: true });
      copyFileSync(a.file, join(dir, a.name));
    }
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
