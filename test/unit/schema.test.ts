// src/schema.ts and the snapshot schema: shapes checked without recursion a file can drive.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arr, int, jsonDepth, obj, opt, parseJson, preview, str, validate } from '../../src/schema.js';
import { CAPTURE_SCHEMA } from '../../src/snapshot/schema.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples', 'snapshots');

describe('jsonDepth / parseJson', () => {
  it('counts nesting without recursion, ignoring brackets in strings', () => {
    expect(jsonDepth('{"a": [1, {"b": "[[[{{{"}]}', 10)).toBe(3);
    expect(jsonDepth('"\\"[[["', 10)).toBe(0);
    expect(jsonDepth('['.repeat(1_000_000), 64)).toBe(65); // stops counting past the limit
  });
  it('refuses a document deeper than the limit with one line', () => {
    expect(() => parseJson('[[[[1]]]]', 'f.json', 3)).toThrow(/^f\.json: nested more than 3 levels deep/);
    expect(parseJson('[[[1]]]', 'f.json', 3)).toEqual([[[1]]]);
  });
});

describe('validate', () => {
  const s = obj({ name: str(), n: int({ min: 0 }), tags: opt(arr(str()), () => []) });
  it('names the first bad field', () => {
    expect(() => validate({ name: 'x', n: -1 }, s, 'f', 'doc')).toThrow('f: doc.n: -1 is out of range 0..');
    expect(() => validate({ name: {}, n: 1 }, s, 'f', 'doc')).toThrow('f: doc.name: expected a string, got {}');
    expect(() => validate({ n: 1 }, s, 'f', 'doc')).toThrow('f: doc.name: missing (expected a string)');
    expect(() => validate({ name: 'x', n: 1, tags: [1] }, s, 'f', 'doc')).toThrow('f: doc.tags[0]: expected a string, got 1');
  });
  it('fills defaults in', () => {
    expect(validate<{ tags: string[] }>({ name: 'x', n: 1 }, s, 'f', 'doc').tags).toEqual([]);
  });
  it('previews long values in one short line', () => {
    expect(preview('x'.repeat(500)).length).toBe(60);
  });
});

describe('the snapshot schema', () => {
  it.each(['servers', 'clients', 'udp-dial-redacted', 'bpf-locks'])('accepts the sample %s.json', (name) => {
    const doc = JSON.parse(readFileSync(join(SAMPLES, `${name}.json`), 'utf8'));
    expect(() => validate(doc.capture, CAPTURE_SCHEMA, name, 'capture')).not.toThrow();
  });
  it('checks the bpf source\'s fields: explicit is a boolean, bindLocks two booleans and a source', () => {
    const doc = JSON.parse(readFileSync(join(SAMPLES, 'bpf-locks.json'), 'utf8'));
    const s = doc.capture.sockets.find((x: { options: Record<string, { explicit?: boolean }> }) => x.options.TCP_KEEPIDLE?.explicit === true);
    s.options.TCP_KEEPIDLE.explicit = 'yes\x1b[2J';
    expect(() => validate(doc.capture, CAPTURE_SCHEMA, 'b', 'capture')).toThrow(/\.options\.TCP_KEEPIDLE\.explicit: expected true or false/);
    s.options.TCP_KEEPIDLE.explicit = true;
    s.bindLocks.source = 'ebpf';
    expect(() => validate(doc.capture, CAPTURE_SCHEMA, 'b', 'capture')).toThrow(/\.bindLocks\.source: /);
    s.bindLocks = { addr: 1, port: false, source: 'bpf' };
    expect(() => validate(doc.capture, CAPTURE_SCHEMA, 'b', 'capture')).toThrow(/\.bindLocks\.addr: expected true or false/);
  });
  it('refuses text smuggled through fields with a fixed form', () => {
    const doc = JSON.parse(readFileSync(join(SAMPLES, 'servers.json'), 'utf8'));
    doc.capture.sockets[0].options['X\x1b[2J'] = { value: 1, source: 'pidfd' };
    expect(() => validate(doc.capture, CAPTURE_SCHEMA, 's', 'capture')).toThrow(/capture\.sockets\[0\]\.options\["X\\u001b\[2J"\]: not an option name/);
  });
});
