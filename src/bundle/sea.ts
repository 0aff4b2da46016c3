// Preamble of the single executable (dist/knetstat-java), run before every
// other module. Text assets are inside this code; binaries are SEA assets
// (node:sea), unpacked on demand into a private directory (private-dir.ts) and
// removed as soon as they have served: koffi.node lives on disk only between
// its write and its dlopen.
import { getRawAsset } from 'node:sea';
import { files, texts } from 'knetstat:assets';
import { installAssetProvider, type AssetProvider } from '../assets.js';
import { EXIT } from '../cli/exit.js';
import type { KnetstatError } from '../errors.js';
import { PrivateDir } from './private-dir.js';

// Node reads these before any JavaScript runs; the build (scripts/sea.mjs)
// blanks those names in the executable. What Node's own JavaScript reads later
// from process.env is removed here, before it can be read, and so never reaches
// a child process either.
for (const k of Object.keys(process.env)) if (k.startsWith('NODE_')) delete process.env[k];

// A SEA's argv is [execPath, argv0 as typed, ...args]. The CLI runs itself when
// argv[1] is its own file, which for the executable is execPath (see the
// import.meta.url definition in scripts/bundle.mjs).
process.argv[1] = process.execPath;

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

// koffi loads while the CLI's modules load, before main() could turn an error
// into one line and an exit code: unpack it now, where a failure still can.
try {
  provider.path('koffi.node');
} catch (err) {
  const e = err as KnetstatError;
  process.stderr.write(`knetstat-java: ${e.message}${e.remedy ? ` (${e.remedy})` : ''}\n`);
  process.exit(EXIT.USAGE);
}
