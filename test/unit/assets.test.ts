// src/assets.ts (files shipped beside the code, or inside the bundles) and
// scripts/assets.mjs (what the bundles carry). The bundles themselves are
// tested in exe.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetNames, assetPath, hasAsset, installAssetProvider, loadNativeAsset, PACKAGE_ROOT, readAsset, readAssetText, type AssetProvider } from '../../src/assets.js';
import { KnetstatError } from '../../src/errors.js';
import { ROOT } from '../helpers/root.js';
// @ts-expect-error plain JavaScript build script
import { collectAssets } from '../../scripts/assets.mjs';

const KEY = Symbol.for('knetstat-java.assets');
afterEach(() => { delete (globalThis as Record<symbol, unknown>)[KEY]; });

describe('assets from files (a checkout, an npm install)', () => {
  it('are read under the package root by their relative names', () => {
    expect(PACKAGE_ROOT.replace(/\/$/, '')).toBe(ROOT);
    expect(readAssetText('package.json')).toBe(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(hasAsset('mappings/java-api.json')).toBe(true);
    expect(hasAsset('mappings/nothing.json')).toBe(false);
    expect(assetPath('mappings/java-api.json')).toBe(join(ROOT, 'mappings', 'java-api.json'));
    expect(assetNames('dist/probe')).toContain('dist/probe/SocketLab.class');
    expect(assetNames('dist/nothing')).toEqual([]);
  });

  it('are read with the caller\'s own reader when it gives one (a bounded, no-follow read)', () => {
    const seen: string[] = [];
    expect(readAsset('package.json', (f) => { seen.push(f); return Buffer.from('mine'); }).toString()).toBe('mine');
    expect(seen).toEqual([join(ROOT, 'package.json')]);
  });
});

describe('assets from a provider (the bundles)', () => {
  function fake(): AssetProvider & { released: string[] } {
    const dir = '/fake/priv';
    const files = ['koffi.node', 'dist/probe/SocketLab.class', 'dist/probe/SocketLab$Kind.class'];
    const released: string[] = [];
    return {
      origin: 'test bundle', released,
      read: (n) => (n === 'package.json' ? Buffer.from('{"name":"x","version":"9"}') : undefined),
      path: (n) => (files.includes(n) ? `${dir}/${n}` : undefined),
      binaries: () => files,
      release: (n) => { released.push(n); },
    };
  }

  it('serve what they carry and refuse the rest in one line', () => {
    installAssetProvider(fake());
    expect(JSON.parse(readAssetText('package.json')).version).toBe('9');
    expect(hasAsset('mappings/java-api.json')).toBe(false);
    expect(() => readAsset('mappings/java-api.json')).toThrow(KnetstatError);
    expect(() => readAsset('mappings/java-api.json')).toThrow('mappings/java-api.json is not part of this test bundle');
    expect(assetPath('koffi.node')).toBe('/fake/priv/koffi.node');
  });

  it('list the binaries directly under a folder (the probe classes), and none of another', () => {
    installAssetProvider(fake());
    expect(assetNames('dist/probe')).toEqual(['dist/probe/SocketLab$Kind.class', 'dist/probe/SocketLab.class']);
    expect(assetNames('dist/bpf')).toEqual([]);
    // Carried assets come from the provider, never from the caller's file reader.
    expect(readAsset('package.json', () => { throw new Error('read a file'); }).toString()).toContain('"version":"9"');
  });

  it('release a native module once dlopen is done with it, even when it fails', () => {
    const p = fake();
    installAssetProvider(p);
    expect(() => loadNativeAsset('koffi.node')).toThrow(/\/fake\/priv\/koffi.node/);
    expect(p.released).toEqual(['koffi.node']);
  });
});

describe('scripts/assets.mjs', () => {
  let root: string;
  afterEach(() => { rmSync(root, { recursive: true, force: true }); });

  it('carries the tables as text, the version without the rest of package.json, and BPF objects and probe classes once built', () => {
    root = mkdtempSync(join(tmpdir(), 'exe-assets-'));
    const put = (rel: string, text = 'x') => { mkdirSync(join(root, rel, '..'), { recursive: true }); writeFileSync(join(root, rel), text); };
    put('package.json', JSON.stringify({ name: 'knetstat-java', version: '1.2.3', scripts: { secret: 'not carried' } }));
    put('mappings/java-api.json', '{}');
    put(`node_modules/@koromix/koffi-${process.platform}-${process.arch}/package.json`, '{}');
    put(`node_modules/@koromix/koffi-${process.platform}-${process.arch}/${process.platform}_${process.arch}/koffi.node`);
    let assets = collectAssets(root) as { name: string; binary: boolean; text?: string }[];
    expect(assets.map((a) => [a.name, a.binary])).toEqual([['package.json', false], ['mappings/java-api.json', false], ['koffi.node', true]]);
    expect(JSON.parse(assets[0]!.text!)).toEqual({ name: 'knetstat-java', version: '1.2.3' });
    put('dist/bpf/iter_tcp.bpf.o');
    put('dist/probe/SocketLab.class');
    put('dist/probe/sub/Inner.class');
    assets = collectAssets(root);
    expect(assets.filter((a) => a.binary).map((a) => a.name)).toEqual(['dist/probe/SocketLab.class', 'dist/probe/sub/Inner.class', 'dist/bpf/iter_tcp.bpf.o', 'koffi.node']);
  });
});
