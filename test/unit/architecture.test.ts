// The shape ARCHITECTURE.md promises, enforced on src/: no import cycle; no
// layer importing a higher one (the order below is ARCHITECTURE.md's, and the
// test checks the two agree); renderers that reach nothing which reads the
// host; no module over 400 lines without a first-lines comment saying why it
// is one piece. The checks are tried first on small made-up graphs, so each
// can be seen to fail.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

const SRC = join(ROOT, 'src');

/** Lowest first; a module may import its own layer and those below. Folders end in '/'. */
const LAYERS: string[][] = [
  ['errors.ts', 'version.ts', 'schema.ts', 'cleanup.ts', 'assets.ts', 'packages.ts', 'builtins.ts'],
  ['model/'],
  ['mappings.ts'],
  ['linux/'],
  ['java/'],
  ['discover/'],
  ['sources/'],
  ['capture.ts'],
  ['observe/'],
  ['host/'],
  ['snapshot/'],
  ['render/'],
  ['check/'],
  ['cli/'],
  ['bundle/'],
];

/** Node modules whose use reads or changes the host (files, processes, native calls, V8 flags). */
const IMPURE = new Set(['node:fs', 'fs', 'node:child_process', 'koffi', 'node:v8', 'node:dgram', 'node:readline']);
/** Impure modules a renderer may still reach, and why. */
const PURE_ENOUGH = new Map([
  ['mappings.ts', 'reads the tool\'s own data tables (mappings/), once, never the host'],
  ['assets.ts', 'reads the tool\'s own files (tables, version), from the package or from inside the bundle, never the host'],
]);

const MAX_LINES = 400;

interface Mod { file: string; lines: number; head: string; imports: { spec: string; typeOnly: boolean }[] }

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') ? [p] : [];
  });
}

/** Static imports and re-exports (type-only or not) and dynamic import()s of a module's text. */
export function importsOf(text: string): Mod['imports'] {
  const out: Mod['imports'] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:([^;'"]*?)\sfrom\s+)?['"]([^'"]+)['"]/g;
  for (let m; (m = re.exec(text));) {
    const names = m[3] ?? '';
    const braces = /^\{([^}]*)\}$/.exec(names.trim());
    const allTypes = !!braces && braces[1]!.split(',').map((x) => x.trim()).filter(Boolean).every((x) => x.startsWith('type '));
    out.push({ spec: m[4]!, typeOnly: !!m[2] || allTypes });
  }
  for (const m of text.matchAll(/(\btypeof\s+)?\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[2]!, typeOnly: !!m[1] });
  // Node's modules loaded at first use (src/builtins.ts) are imports of those modules.
  for (const m of text.matchAll(/\bbuiltin\(\s*['"](node:[^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

function load(): Map<string, Mod> {
  const mods = new Map<string, Mod>();
  for (const f of sources(SRC)) {
    const text = readFileSync(f, 'utf8');
    const file = relative(SRC, f);
    mods.set(file, { file, lines: text.split('\n').length, head: text.split('\n').slice(0, 12).join('\n'), imports: importsOf(text) });
  }
  return mods;
}

/** A relative specifier as a module of the graph ("../linux/inet.js" from "sources/x.ts" -> "linux/inet.ts"); undefined for packages. */
function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const parts = join(from, '..', spec).split('/');
  return parts.join('/').replace(/\.js$/, '.ts');
}

export function layerOf(file: string, layers = LAYERS): number {
  const i = layers.findIndex((l) => l.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  if (i < 0) throw new Error(`${file} is in no layer: add it to ARCHITECTURE.md and LAYERS`);
  return i;
}

/** Every import cycle, as the modules on it. */
export function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
  return found;
}

/** Imports of a lower layer from a higher one. */
export function upward(edges: Map<string, string[]>, layers = LAYERS): string[] {
  const out: string[] = [];
  for (const [from, tos] of edges) for (const to of tos) if (layerOf(to, layers) > layerOf(from, layers)) out.push(`${from} -> ${to}`);
  return out;
}

/** Modules over MAX_LINES whose first lines do not say why they are one piece. */
export function oversized(mods: Iterable<Pick<Mod, 'file' | 'lines' | 'head'>>, max = MAX_LINES): string[] {
  return [...mods].filter((m) => m.lines > max && !/^\/\/.*\bone piece\b/im.test(m.head)).map((m) => `${m.file} (${m.lines} lines)`);
}

const mods = load();
const graph = (typeOnly: boolean) => new Map([...mods.values()].map((m) => [m.file,
  m.imports.filter((i) => typeOnly || !i.typeOnly).map((i) => resolveSpec(m.file, i.spec)).filter((x): x is string => x !== undefined)]));

describe('the checks can fail', () => {
  const g = new Map([['render/a.ts', ['model/b.ts']], ['model/b.ts', ['linux/c.ts']], ['linux/c.ts', ['model/b.ts']]]);
  it('finds a cycle and an upward import', () => {
    expect(cycles(g)).toEqual([['model/b.ts', 'linux/c.ts', 'model/b.ts']]);
    expect(upward(g)).toEqual(['model/b.ts -> linux/c.ts']);
  });
  it('finds a long module without its reason, and accepts one with it', () => {
    expect(oversized([{ file: 'x.ts', lines: 401, head: '// Does things.\nimport a' }])).toEqual(['x.ts (401 lines)']);
    expect(oversized([{ file: 'x.ts', lines: 401, head: '// Does things.\n// One piece: the state machine of a netlink exchange.\n' }])).toEqual([]);
  });
  it('parses the import forms src uses', () => {
    expect(importsOf("import { a, type B } from './a.js';\nimport type { C } from '../c.js';\nexport { d } from './d.js';\nimport {\n  type E,\n} from './e.js';\nconst x = await import('./f.js');\nimport './g.js';"))
      .toEqual([
        { spec: './a.js', typeOnly: false }, { spec: '../c.js', typeOnly: true }, { spec: './d.js', typeOnly: false },
        { spec: './e.js', typeOnly: true }, { spec: './g.js', typeOnly: false }, { spec: './f.js', typeOnly: false },
      ]);
    // A type of another module's shape is type-only; a module loaded at first use (src/builtins.ts) is an import.
    expect(importsOf("type T = typeof import('node:v8');\nconst p = builtin('node:child_process').spawn('x');"))
      .toEqual([{ spec: 'node:v8', typeOnly: true }, { spec: 'node:child_process', typeOnly: false }]);
  });
});

describe('src/', () => {
  it('every relative import names a module that exists', () => {
    for (const [from, tos] of graph(true)) for (const to of tos) expect(mods.has(to), `${from} -> ${to}`).toBe(true);
  });

  it('has no import cycle, type imports included', () => {
    expect(cycles(graph(true))).toEqual([]);
  });

  it('every module is in a layer, and no layer imports a higher one', () => {
    for (const f of mods.keys()) layerOf(f);
    expect(upward(graph(true))).toEqual([]);
  });

  it('has the layers ARCHITECTURE.md writes down, in its order', () => {
    const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const block = /<!-- BEGIN layers -->\n([\s\S]*?)<!-- END layers -->/.exec(doc);
    expect(block, 'ARCHITECTURE.md has a layers block').toBeTruthy();
    const written = block![1]!.trim().split('\n').map((l) => /^\d+\. (.*?)(?: — .*)?$/.exec(l.trim())?.[1]?.split(', ').map((x) => x.replace(/`/g, '').replace(/^src\//, '')));
    expect(written).toEqual(LAYERS);
  });

  it('no renderer reaches a module that reads the host', () => {
    const edges = graph(false);
    const reached = new Set<string>();
    const walk = (f: string) => {
      if (reached.has(f)) return;
      reached.add(f);
      for (const g of edges.get(f) ?? []) walk(g);
    };
    for (const f of mods.keys()) if (f.startsWith('render/')) walk(f);
    const impure = [...reached].filter((f) => !PURE_ENOUGH.has(f) && mods.get(f)!.imports.some((i) => !i.typeOnly && IMPURE.has(i.spec)));
    expect(impure).toEqual([]);
    expect(reached.has('java/analyze.ts')).toBe(true); // the walk does reach through the analysis
  });

  it(`has no module over ${MAX_LINES} lines without a first-lines comment saying why it is one piece`, () => {
    expect(oversized(mods.values())).toEqual([]);
  });
});
