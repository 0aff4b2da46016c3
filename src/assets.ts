// Files the tool ships that are not its code: the tables in mappings/, the
// package's name and version, and binaries that need a path on disk (koffi's
// native module, precompiled probe classes, BPF objects). Names are paths
// relative to the package root ("mappings/java-api.json").
// From a checkout or an npm install they are plain files under the package
// root. dist/bundle.cjs and the single executable carry them inside; their
// preamble (src/bundle/) installs a provider before any other module runs, and
// scripts/assets.mjs lists what is carried.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KnetstatError } from './errors.js';

export interface AssetProvider {
  /** Where the provider comes from, for messages ("bundle", "single executable"). */
  readonly origin: string;
  /** The bytes of an asset, or undefined when it is not carried. */
  read(name: string): Buffer | undefined;
  /** A regular file on disk holding the asset (binaries only), or undefined when it is not carried. */
  path(name: string): string | undefined;
  /** The names of the binary assets carried. */
  binaries(): string[];
  /** Called once the caller no longer needs path(name) (e.g. after dlopen): extracted copies may go. */
  release?(name: string): void;
}

const KEY = Symbol.for('knetstat-java.assets');
type Holder = { [KEY]?: AssetProvider };

/** Installed by the bundles' preamble; absent when running from dist/ or src/. */
export function installAssetProvider(p: AssetProvider): void {
  (globalThis as Holder)[KEY] = p;
}

function provider(): AssetProvider | undefined {
  return (globalThis as Holder)[KEY];
}

/**
 * The package root when running from files (dist/.. or src/..). The bundles
 * have none: copied anywhere (/tmp/x, a user's home), the folder around them is
 * not ours to read samples or classes from, so their preamble sets a root under
 * /proc/self, where nobody can create a file (scripts/bundle.mjs NO_ROOT).
 */
export const PACKAGE_ROOT: string = (globalThis as { [k: symbol]: string | undefined })[Symbol.for('knetstat-java.packageRoot')]
  ?? fileURLToPath(new URL('..', import.meta.url));

function missing(name: string, origin: string): KnetstatError {
  return new KnetstatError(`${name} is not part of this ${origin}`, { remedy: 'rebuild it with npm run build:bundle / build:exe' });
}

export function hasAsset(name: string): boolean {
  const p = provider();
  return p ? p.binaries().includes(name) || p.read(name) !== undefined : existsSync(join(PACKAGE_ROOT, name));
}

/**
 * The bytes of an asset. fromFile reads it when it is a file under the package
 * root (a caller that wants a bounded, no-follow read passes its own); carried
 * assets come from inside the bundle or the executable.
 */
export function readAsset(name: string, fromFile: (path: string) => Buffer = (f) => readFileSync(f)): Buffer {
  const p = provider();
  if (!p) return fromFile(join(PACKAGE_ROOT, name));
  const b = p.read(name);
  if (!b) throw missing(name, p.origin);
  return b;
}

export function readAssetText(name: string): string {
  return readAsset(name).toString('utf8');
}

/**
 * The binary assets directly under prefix ("dist/probe" -> "dist/probe/SocketLab.class", ...),
 * sorted; none when the folder is absent.
 */
export function assetNames(prefix: string): string[] {
  const p = provider();
  const names = p
    ? p.binaries().filter((n) => n.startsWith(`${prefix}/`) && !n.slice(prefix.length + 1).includes('/'))
    : (() => {
      try {
        return readdirSync(join(PACKAGE_ROOT, prefix), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => `${prefix}/${e.name}`);
      } catch {
        return [];
      }
    })();
  return names.sort();
}

/** A path to a regular file with the asset's bytes (for dlopen, libbpf, java -cp). */
export function assetPath(name: string): string {
  const p = provider();
  if (!p) return join(PACKAGE_ROOT, name);
  const file = p.path(name);
  if (!file) throw missing(name, p.origin);
  return file;
}

/** The caller no longer needs assetPath(name)'s file (it has it open, or mapped): an unpacked copy may go. */
export function releaseAsset(name: string): void {
  provider()?.release?.(name);
}

/** Loads a native Node module carried as an asset (koffi's koffi.node in the bundles). */
export function loadNativeAsset(name: string): unknown {
  const p = provider();
  const file = assetPath(name);
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, file);
  } finally {
    p?.release?.(name);
  }
  return mod.exports;
}
