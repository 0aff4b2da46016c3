// src/render/terminal.ts: what reaches a terminal from text a target controls.
import { describe, expect, it } from 'vitest';
import { safeChunk, terminalChunk, terminalSafe, terminalText } from '../../src/render/terminal.js';

describe('terminalText', () => {
  it('shows controls escaped, on one line', () => {
    expect(terminalText('a\x1b[2Jb\nc\rd\te\x07f\x7fg\u009bh\u202ei\u2028j')).toBe('a\\e[2Jb\\nc\\rd\\te\\x07f\\x7fg\\u009bh\\u202ei\\u2028j');
  });
  it('leaves ordinary text alone (the same string, not a copy)', () => {
    const s = 'java -Dé€😀=1 /opt/My JDK/bin/java \\d+';
    expect(terminalText(s)).toBe(s);
  });
  it('a chunk keeps our own newlines and nothing else', () => {
    expect(terminalChunk('line 1\nline\x1b[31m 2\r\n')).toBe('line 1\nline\\e[31m 2\\r\n');
  });
});

describe('terminalSafe', () => {
  it('copies only what changes, keeps shared objects shared, escapes keys too', () => {
    const shared = { note: 'ok' };
    const clean = { a: shared, b: shared, list: ['x', 'y'] };
    expect(terminalSafe(clean)).toBe(clean);
    const dirty = { a: shared, b: shared, props: { 'k\nFORGED': 'v\x1b' }, list: ['x', 'y\n'] };
    const out = terminalSafe(dirty);
    expect(out).not.toBe(dirty);
    expect(out.a).toBe(shared);
    expect(out.props).toEqual({ 'k\\nFORGED': 'v\\e' });
    expect(out.list).toEqual(['x', 'y\\n']);
    expect(dirty.list[1]).toBe('y\n'); // the input is not changed
  });
});

describe('safeChunk for documents', () => {
  it('JSON: C1 and bidi controls as \\u escapes, the same JSON', () => {
    const doc = JSON.stringify({ s: 'a\u009bb\u202ec\x1b' });
    const out = safeChunk('json', doc);
    expect(out).toBe('{"s":"a\\u009bb\\u202ec\\u001b"}');
    expect(JSON.parse(out)).toEqual(JSON.parse(doc));
  });
  it('XML: as character references', () => {
    expect(safeChunk('xml', '<a b="x\u202ey">\u2066</a>')).toBe('<a b="x&#x202e;y">&#x2066;</a>');
  });
  it('DEL is found in an otherwise ASCII chunk, and plain or other non-ASCII text is left as it is', () => {
    expect(safeChunk('json', '{"s":"a\x7fb"}')).toBe('{"s":"a\\u007fb"}');
    expect(safeChunk('xml', '<a>\x7f</a>')).toBe('<a>&#x007f;</a>');
    const plain = `{"s":"${'x'.repeat(100000)}"}`;
    expect(safeChunk('json', plain)).toBe(plain);
    expect(safeChunk('json', '{"s":"été 東京 \u00a0"}')).toBe('{"s":"été 東京 \u00a0"}');
    expect(safeChunk('json', `{"s":"${'x'.repeat(100000)}\u0085"}`).endsWith('x\\u0085"}')).toBe(true);
  });
});
