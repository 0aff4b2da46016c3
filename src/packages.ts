// npm packages the tool loads only when it needs them, not at start-up:
// koffi at the first native call (--version, --help, render, list and
// check --snapshot make none), fast-xml-parser for JUnit only. From
// node_modules when the tool runs from files (dist/, an npm install); the
// bundles' preamble (src/bundle/) installs a loader that returns the copies
// bundled in. (ora, the spinner, is ESM-only and imported dynamically where
// the spinner starts: src/cli/progress.ts.) Node's own modules that cost a
// start: src/builtins.ts.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';
import type * as FastXmlParser from 'fast-xml-parser';

export interface Packages {
  koffi: typeof Koffi;
  'fast-xml-parser': typeof FastXmlParser;
}
export type PackageLoader = { [K in keyof Packages]: () => Packages[K] };

const KEY = Symbol.for('knetstat-java.packages');
type Holder = { [KEY]?: PackageLoader };

/** Installed by the bundles' preamble. */
export function installPackageLoader(l: PackageLoader): void {
  (globalThis as Holder)[KEY] = l;
}

const loaded: Partial<Packages> = {};
let requireHere: NodeJS.Require | undefined;

/** The package, loaded on the first call. */
export function load<K extends keyof Packages>(name: K): Packages[K] {
  const p = loaded[name];
  if (p !== undefined) return p as Packages[K];
  const l = (globalThis as Holder)[KEY];
  const fresh = l ? l[name]() : ((requireHere ??= createRequire(import.meta.url))(name) as Packages[K]);
  loaded[name] = fresh;
  return fresh;
}
