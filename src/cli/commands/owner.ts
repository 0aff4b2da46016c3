// knetstat-java owner <inode>|<[addr:]port>: which processes hold a socket
// of this network namespace, and whether they are JVMs.
import { Option, type Command } from 'commander';
import { EXIT, TargetError } from '../../errors.js';
import { findOwners, parseOwnerQuery, type OwnerMatch } from '../../host/owner.js';
import { formatEndpoint } from '../../model/addr.js';
import { warn, writeOutput } from '../output.js';
import { terminalSafe } from '../../render/terminal.js';

function text(matches: OwnerMatch[]): string {
  const lines: string[] = [];
  for (const m of matches) {
    lines.push(`${m.protocol} ${formatEndpoint(m.local.address, m.local.port)} -> ${formatEndpoint(m.remote.address, m.remote.port)} ${m.state} inode ${m.inode}`);
    if (m.owners.length === 0) lines.push(m.inode === 0 ? '  no process (TIME_WAIT, request or orphaned socket)' : '  no process found (held by a process we may not inspect, or in flight)');
    for (const o of m.owners) {
      const what = o.isJvm ? `JVM${o.mainClass ? ` ${o.mainClass}` : ''}` : o.isJvm === false ? 'not a JVM' : 'JVM unknown';
      lines.push(`  pid ${o.pid} (${o.comm}) user ${o.user ?? o.uid ?? '?'} fd ${o.fds.join(',')}: ${what}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function ownerCommand(query: string, flags: { format?: string }): Promise<number> {
  const q = parseOwnerQuery(query);
  const { matches, unreadable } = findOwners(q);
  if (matches.length === 0) {
    throw new TargetError(`no TCP/UDP socket ${q.inode !== undefined && q.port === undefined ? `with inode ${q.inode}` : `matching '${query}'`} in this network namespace`, { remedy: 'check with ss -tuanpe' });
  }
  const json = flags.format === 'json';
  await writeOutput([json ? `${JSON.stringify({ matches, unreadable }, null, 2)}\n` : text(terminalSafe(matches))], undefined, { as: json ? 'json' : 'text' });
  if (unreadable.length > 0 && matches.some((m) => m.owners.length === 0 && m.inode !== 0)) {
    warn(`${unreadable.length} process(es) could not be inspected (run as root to see every owner)`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}

export function register(program: Command): void {
  program
    .command('owner')
    .description('the process(es) holding a socket, by inode or [address:]port, and whether they are JVMs')
    .argument('<socket>', 'socket inode, port, or address:port (127.0.0.1:8080, [::1]:8080)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (query: string, flags: { format: string }) => {
      process.exitCode = await ownerCommand(query, flags);
    });
}

export { register as registerOwner };
