// Preamble of dist/bundle.cjs, run before every other module: text assets come
// from inside the bundle, binaries from dist/bundle-assets/ beside it (part of
// the installed package, so as trusted as the bundle itself).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { files, texts } from 'knetstat:assets';
import { installAssetProvider } from '../assets.js';
import { installPackageLoader } from '../packages.js';
import { startEarly } from '../cli/early.js';

// In the bundle, import.meta.url is dist/bundle.cjs.
const dir = fileURLToPath(new URL('./bundle-assets/', import.meta.url));
const text = new Map(texts);
const binary = new Set(files);

installAssetProvider({
  origin: 'bundle',
  read: (name) => {
    const t = text.get(name);
    if (t !== undefined) return Buffer.from(t, 'utf8');
    return binary.has(name) ? readFileSync(dir + name) : undefined;
  },
  path: (name) => (binary.has(name) ? dir + name : undefined),
  binaries: () => [...binary],
});

// Bundled in, loaded at first use (src/packages.ts).
installPackageLoader({ koffi: () => require('koffi'), 'fast-xml-parser': () => require('fast-xml-parser') });

// A capture through the bpf source starts loading its object now (src/cli/early.ts).
startEarly(process.argv.slice(2));
