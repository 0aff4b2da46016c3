// Preamble of the single executable (dist/knetstat-java), run before every
// other module. Text assets are inside this code; binaries are SEA assets
// (node:sea), unpacked on demand into a private directory (private-dir.ts) and
// removed as soon as they have served: koffi.node lives on disk only between
// its write and its dlopen, which happens at the first native call (a command
// that makes none, such as --version or render, unpacks nothing).
import { getRawAsset } from 'node:sea';
import { files, texts } from 'knetstat:assets';
import { installAssetProvider, type AssetProvider } from '../assets.js';
import { HELPER_COMMAND, HELPER_MODE_ARG, runHelper } from '../observe/helper.js';
import { installPackageLoader } from '../packages.js';
import { startEarly } from '../cli/early.js';
import { PrivateDir } from './private-dir.js';

// Node reads these before any JavaScript runs; the build (scripts/sea.mjs)
// blanks those names in the executable. What Node's own JavaScript reads later
// from process.env is removed here, before it can be read, and so never reaches
// a child process either.
for (const k of Object.keys(process.env)) if (k.startsWith('NODE_')) delete process.env[k];

// A SEA's argv is [execPath, argv0 as typed, ...args]. The CLI runs itself when
// argv[1] is its own file, which for the executable is execPath (see the
// import.meta.url definition in scripts/bundle.mjs). Started as --observe's
// helper (observe/asuser.ts, as the JVM's user), it runs that and not the CLI:
// an executable takes no Node options, so it cannot be given the helper's
// text with -e as Node is.
if (process.argv.length === 3 && process.argv[2] === HELPER_MODE_ARG) {
  process.argv[1] = '';
  runHelper();
} else {
  process.argv[1] = process.execPath;
}
(globalThis as { [HELPER_COMMAND]?: string[] })[HELPER_COMMAND] = [process.execPath, HELPER_MODE_ARG];

const text = new Map(texts);
const binary = new Set(files);
const unpacked = new Map<string, string>();
let dir: PrivateDir | undefined;

const provider: AssetProvider = {
  origin: 'single executable',
  read: (name) => {
    const t = text.get(name);
    if (t !== undefined) return Buffer.from(t, 'utf8');
    // A copy: the raw asset is read-only memory of the executable.
    return binary.has(name) ? Buffer.from(new Uint8Array(getRawAsset(name) as ArrayBuffer)) : undefined;
  },
  path: (name) => {
    if (!binary.has(name)) return undefined;
    let p = unpacked.get(name);
    if (!p) {
      dir ??= PrivateDir.create();
      p = dir.write(name, new Uint8Array(getRawAsset(name) as ArrayBuffer));
      unpacked.set(name, p);
    }
    return p;
  },
  binaries: () => [...binary],
  release: (name) => {
    if (!unpacked.delete(name) || !dir) return;
    if (dir.release(name)) dir = undefined;
  },
};
installAssetProvider(provider);

installPackageLoader({
  // Unpacked first, so that a host with no safe place for it gets our one-line reason (a
  // KnetstatError, exit 2): koffi's own loader would turn any failure into "cannot find the
  // native module".
  koffi: () => {
    provider.path('koffi.node');
    return require('koffi');
  },
  'fast-xml-parser': () => require('fast-xml-parser'),
});

// A capture through the bpf source starts loading its object now (src/cli/early.ts).
startEarly(process.argv.slice(2));
