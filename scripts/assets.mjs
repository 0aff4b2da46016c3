// What the bundles carry besides code, read at run time through src/assets.ts
// under the same names as in a checkout. One line per kind of asset: text
// assets go inside the bundle's code; binary ones (they need a path on disk)
// go beside dist/bundle.cjs and into the executable as SEA assets. A glob that
// matches nothing yet (BPF objects, precompiled probe classes) adds nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

/** @typedef {{ name: string, file?: string, text?: string, binary: boolean }} Asset */

const RULES = [
  { name: 'package.json', text: (root) => { const p = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')); return JSON.stringify({ name: p.name, version: p.version }); } },
  { glob: 'mappings/*.json' },
  { glob: 'dist/probe/**/*.class', binary: true }, // --probe-jdk's precompiled probe, once it ships (issue 11)
  { glob: 'dist/bpf/*.bpf.o', binary: true }, // the BPF source's CO-RE objects, once they are built
  { name: 'koffi.node', file: koffiNative, binary: true },
];

/** koffi's native module for the building machine: the file its loader (static.cjs) would require. */
function koffiNative(root) {
  const pkg = `@koromix/koffi-${process.platform}-${process.arch}`;
  const dir = join(createRequire(join(root, 'package.json')).resolve(`${pkg}/package.json`), '..');
  return join(dir, `${process.platform}_${process.arch}`, 'koffi.node');
}

/** `dir/*.ext` or `dir/**\/*.ext`, relative to root. */
function glob(root, pattern) {
  const star = pattern.indexOf('*');
  const base = pattern.slice(0, pattern.lastIndexOf('/', star));
  const deep = pattern.includes('**/');
  const suffix = pattern.slice(pattern.lastIndexOf('*') + 1);
  if (!existsSync(join(root, base))) return [];
  return readdirSync(join(root, base), { recursive: deep, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/** @returns {Asset[]} */
export function collectAssets(root) {
  const out = [];
  for (const r of RULES) {
    const binary = Boolean(r.binary);
    if (r.glob) for (const name of glob(root, r.glob)) out.push({ name, file: join(root, name), binary });
    else if (r.text) out.push({ name: r.name, text: r.text(root), binary });
    else out.push({ name: r.name, file: r.file(root), binary });
  }
  for (const a of out) if (a.file && !existsSync(a.file)) throw new Error(`asset ${a.name}: ${a.file} is missing`);
  return out;
}
