// The README's "Java developers" table, generated from mappings/ so the two
// cannot drift (test/unit/mappings.test.ts compares them).
import { mappings } from '../mappings.js';

const esc = (s: string) => s.replaceAll('|', '\\|');

export function javaTableMarkdown(): string {
  const { java, jdk } = mappings();
  const lines = [
    '| Kernel option | java.net setter | setOption key (NIO, and java.net since JDK 9) | Value | Notes |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const row of java.options) {
    const setters = new Set<string>();
    const keys = new Set<string>();
    for (const [group, t] of Object.entries(row.java)) {
      if (!t) continue;
      const cls = group === 'server' ? 'ServerSocket' : group === 'datagram' ? (t.classicOn ? 'MulticastSocket' : 'DatagramSocket') : 'Socket';
      if (t.classic) setters.add(t.classic.startsWith('new ') ? t.classic.replaceAll('{v}', 'n') : `${cls}.${t.classic.replaceAll('{v}', '…')}`);
      if (t.option) keys.add(t.option);
    }
    const value = { bool: '0/1 → false/true', half: 'kernel value ÷ 2', linger: '{on, seconds}', hex: 'as is (hex)', int: 'as is', notbool: 'inverted' }[row.value];
    const notes = [row.dynamic ? `changes by itself: ${row.dynamic}` : '', !setters.size && !keys.size ? `no Java API${row.native ? `; ${row.native}` : ''}` : row.native ? `also ${row.native}` : ''].filter(Boolean).join('; ');
    lines.push(`| ${row.option} | ${esc([...setters].join(', ') || '—')} | ${esc([...keys].join(', ') || '—')} | ${value} | ${esc(notes)} |`);
  }
  lines.push('', '| JDK default (set by the JDK itself) | Socket kind | Verified on JDK | How we know |', '| --- | --- | --- | --- |');
  for (const r of jdk) {
    const opts = Object.entries(r.options).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
    if (r.backlog !== undefined) opts.push(`listen backlog ${r.backlog}`);
    if (!opts.length) continue;
    lines.push(`| ${esc(opts.join(', '))} | ${esc(`${r.kind} (${r.family}${r['preferIPv4Stack'] ? ', -Djava.net.preferIPv4Stack=true' : ''})`)} | ${r.jdk} | ${esc(r.source)} |`);
  }
  return lines.join('\n');
}
