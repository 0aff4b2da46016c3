// The JSON writer (render/json.ts) against JSON.stringify, byte for byte, on
// the sample snapshots and hand-made corner cases: values to escape, drop or
// replace, objects shared or not, more distinct objects than it keeps texts
// of. Live JVMs: test/scale-output.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/java/analyze.js';
import { renderJson } from '../../src/render/json.js';
import type { Capture, ListenerTemplate, OptionVerdict, Report, ReportSocket } from '../../src/model/types.js';
import { LISTENER_TEMPLATE } from '../../src/model/types.js';
import { expectSameJson, join_, referenceJson } from '../helpers/json.js';
import { ROOT } from '../helpers/root.js';

const sample = (f: string) => JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', f), 'utf8')).capture as Capture;

describe('JSON output is the text JSON.stringify lays out', () => {
  it('for the sample snapshots', () => {
    for (const f of ['clients.json', 'servers.json', 'udp-dial-redacted.json']) {
      expectSameJson(sample(f));
    }
  });

  it('for an empty report', () => {
    expectSameJson({ ...sample('servers.json'), sockets: [] });
  });

  it('for values JSON has to escape, drop or replace, shared or not', () => {
    const cap = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'clients.json'), 'utf8')).capture as Capture;
    const report = analyze(cap);
    const base = report.sockets[0]!;
    const shared = { value: 7, source: 'pidfd' as const, note: 'quote " backslash \\ newline \n tab \t bell \u0007 é ✓ \ud800 lone' };
    const odd: ReportSocket[] = [];
    for (let i = 0; i < 20; i++) {
      odd.push({
        ...base,
        fd: i,
        diag: i % 2 ? '>|' : '',
        recvQ: [0, -0, 1e21, 2 ** 53 + 2, NaN, Infinity, -Infinity, 0.1][i % 8]!,
        options: {
          ...base.options,
          SHARED: shared,
          [`ONLY_${i % 3}`]: { value: i, source: 'pidfd' },
          GONE: undefined as never,
          NULLED: { value: null, source: 'pidfd', error: 'ENOPROTOOPT' },
          LINGER: { value: { enabled: true, seconds: i }, source: 'pidfd' },
        },
        verdicts: { ...base.verdicts, SHARED: { origin: 'application', note: shared.note }, EMPTY: {} as never },
        hints: i % 3 ? [] : ['a "hint"', '</script>'],
        unknown: i % 4 ? [] : ['X', 'Y'],
        java: i % 5 ? [] : [{ api: 'native', call: 'X=1', origin: 'application', options: [], note: undefined }],
        // Not plain data: JSON.stringify calls toJSON (a Date; one giving undefined leaves its key out) and writes arrays' holes and undefined as null.
        timer: (i % 6 ? undefined : { kind: 'keepalive', expiresMs: 5, retrans: 0, source: 'sockdiag', at: new Date(0), list: [1, undefined, () => 1], gone: { toJSON: () => undefined } }) as never,
        uid: i % 7 ? undefined : 0,
        vanished: i === 3 ? true : undefined,
      });
    }
    // The same objects at two depths: a reading object also as a whole field.
    odd.push({ ...base, fd: 99, listener: shared as never, options: { A: shared, B: shared } });
    const r: Report = { ...report, sockets: odd };
    for (const how of ['native', 'cached'] as const) expect(join_(renderJson(r, how)), how).toBe(referenceJson(r));
  });

  it('for objects met again by identity (shared readings and options), among one-off ones, at places that give either up', () => {
    const report = analyze(sample('servers.json'));
    const base = report.sockets[0]!;
    const same = { value: 1, source: 'bpf' as const, explicit: true };
    const linger = { value: { enabled: true, seconds: 5 }, source: 'bpf' as const };
    const local = { address: '127.0.0.1', port: 8080 };
    const sockets: ReportSocket[] = [];
    for (let i = 0; i < 600; i++) {
      sockets.push({
        ...base,
        fd: i,
        // Identity hits all along (A, L), misses all along (B), hits then misses (C: one object for 100 sockets, then new ones).
        options: { A: same, B: { value: i, source: 'bpf' }, C: i < 100 ? same : { value: 1, source: 'bpf', explicit: i % 2 === 0 }, L: linger },
        local: i % 2 ? local : { address: '127.0.0.1', port: i },
      });
    }
    // Whole options objects met again (the bpf source shares them), among distinct ones, then for every socket.
    const options = sockets[1]!.options;
    for (let i = 0; i < 600; i++) sockets.push({ ...base, fd: 1000 + i, options: i < 300 && i % 3 ? { ...options } : options });
    const r: Report = { ...report, sockets };
    for (const how of ['native', 'cached'] as const) expect(join_(renderJson(r, how)), how).toBe(referenceJson(r));
  });

  it('for more distinct objects than the writer keeps texts of', () => {
    const cap = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'servers.json'), 'utf8')).capture as Capture;
    const report = analyze(cap);
    const base = report.sockets[0]!;
    const sockets: ReportSocket[] = [];
    for (let i = 0; i < 400; i++) {
      const options: ReportSocket['options'] = {};
      for (let k = 0; k < 30; k++) options[`O${k}`] = { value: i * 30 + k, source: 'pidfd' };
      sockets.push({ ...base, fd: i, options });
    }
    const r: Report = { ...report, sockets };
    for (const how of ['native', 'cached'] as const) expect(join_(renderJson(r, how)), how).toBe(referenceJson(r));
  });

  /** Verdicts made for one listener from a template, as java/analyze.ts forListener makes them. */
  const forListener = (template: Record<string, OptionVerdict>, name: string, link: Partial<ListenerTemplate> = {}) => {
    const v: Record<string, OptionVerdict> = {};
    for (const [k, t] of Object.entries(template)) v[k] = t.note?.includes('\u0001') ? { ...t, note: t.note.replaceAll('\u0001', name) } : t;
    Object.defineProperty(v, LISTENER_TEMPLATE, { value: { template, placeholder: '\u0001', name, ...link } });
    return v;
  };

  it('for verdicts made per listener from a template (their text: the template\'s, the name filled in), names JSON escapes included', () => {
    const report = analyze(sample('servers.json'));
    const base = report.sockets[0]!;
    const template: Record<string, OptionVerdict> = {
      SO_RCVBUF: { origin: 'application', confidence: 'certain', note: 'inherited from listener fd \u0001', evidence: 'value' },
      TCP_NODELAY: { origin: 'jdk-default', note: 'inherited from listener fd \u0001' },
      SO_KEEPALIVE: { origin: 'kernel-default' },
    };
    // The name as formatEndpoint gives it, and with what JSON must escape (a quote, a backslash, a control character).
    const names = ['11 (127.0.0.1:8080)', '12 ([::1]:8080)', '13 ("x"\\y\n)'];
    const sockets: ReportSocket[] = [];
    for (let i = 0; i < 700; i++) sockets.push({ ...base, fd: i, verdicts: forListener(template, names[i % 3]!) });
    // A template whose text holds the placeholder's escape as text, too: walked instead (still the same bytes).
    const tricky = { ...template, X: { origin: 'application' as const, note: 'literally \\u0001 here' } };
    for (let i = 0; i < 20; i++) sockets.push({ ...base, fd: 1000 + i, verdicts: forListener(tricky, names[i % 3]!) });
    const r: Report = { ...report, sockets };
    for (const how of ['native', 'cached'] as const) expect(join_(renderJson(r, how)), how).toBe(referenceJson(r));
  });

  it('fills the name into the template\'s text rather than walking the object (the link is what says so)', () => {
    const report = analyze(sample('servers.json'));
    const base = report.sockets[0]!;
    const template: Record<string, OptionVerdict> = { SO_RCVBUF: { origin: 'application', note: 'inherited from listener fd \u0001' } };
    const sockets: ReportSocket[] = [];
    for (let i = 0; i < 600; i++) {
      const v = forListener(template, '11 (127.0.0.1:8080)');
      // The object says otherwise than its template: only the writer that walks it writes this.
      v.SO_RCVBUF = { origin: 'application', note: 'walked' };
      sockets.push({ ...base, fd: i, verdicts: v });
    }
    const text = join_(renderJson({ ...report, sockets }, 'cached'));
    expect(text).toContain('"note": "inherited from listener fd 11 (127.0.0.1:8080)"');
    expect(text).not.toContain('walked');
  });
});
