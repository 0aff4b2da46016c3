// The data tables are checked against what they claim: the kernel's headers
// on this machine, and the README's generated table.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mappings } from '../../src/mappings.js';
import { withTable } from '../../src/cli/docs.js';
import { ROOT } from '../helpers/root.js';

describe('mappings/kernel-options.json', () => {
  it('every level and option number matches this machine\'s C headers', () => {
    const opts = mappings().kernel;
    const dir = mkdtempSync(join(tmpdir(), 'knj-'));
    const body = opts.map((o) => `printf("%s %d %d\\n", "${o.name}", ${o.level === 'IPPROTO_IPV6' ? 'IPPROTO_IPV6' : o.level}, ${o.name === 'SO_RCVTIMEO' ? 'SO_RCVTIMEO_OLD' : o.name === 'SO_SNDTIMEO' ? 'SO_SNDTIMEO_OLD' : o.name});`).join('\n');
    writeFileSync(join(dir, 'o.c'), `#include <stdio.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <netinet/tcp.h>\n#include <linux/in6.h>\nint main(void){\n${body}\nreturn 0;}\n`);
    execFileSync('gcc', ['-o', join(dir, 'o'), join(dir, 'o.c')]);
    const lines = execFileSync(join(dir, 'o'), { encoding: 'utf8' }).trim().split('\n');
    for (const [i, o] of opts.entries()) expect(lines[i], o.name).toBe(`${o.name} ${o.levelNum} ${o.optname}`);
  });
  it('every option has a Java mapping row, and every row names its source', () => {
    const java = new Set(mappings().java.options.map((r) => r.option));
    for (const o of mappings().kernel) expect(java.has(o.name), o.name).toBe(true);
    for (const r of mappings().java.options) expect(r.source.length, r.option).toBeGreaterThan(5);
  });
});

describe('README', () => {
  it('holds the Java table exactly as mappings/ generates it (npm run docs)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(withTable(readme)).toBe(readme);
  });
  it('opens with the two commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(block).toMatch(/npm run demo/);
    expect(block).toMatch(/npm run test:all/);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/npm run test:all/);
  });
});
