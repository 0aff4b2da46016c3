// knetstat-java owner <inode>|<[addr:]port>: which processes hold a socket
// of this network namespace, and whether they are JVMs.
import { TargetError } from '../../errors.js';
import { findOwners, parseOwnerQuery } from '../../host/owner.js';
import { renderOwnersJson, renderOwnersText } from '../../render/host.js';
import { outputKind } from '../../render/terminal.js';
import { EXIT } from '../exit.js';
import { warn, writeOutput } from '../output.js';

export async function ownerCommand(query: string, flags: { format?: string }): Promise<number> {
  const q = parseOwnerQuery(query);
  const found = findOwners(q);
  if (found.matches.length === 0) {
    throw new TargetError(`no TCP/UDP socket ${q.inode !== undefined && q.port === undefined ? `with inode ${q.inode}` : `matching '${query}'`} in this network namespace`, { remedy: 'check with ss -tuanpe' });
  }
  await writeOutput([flags.format === 'json' ? renderOwnersJson(found) : renderOwnersText(found.matches)], undefined, { as: outputKind(flags.format ?? 'text') });
  if (found.unreadable.length > 0 && found.matches.some((m) => m.owners.length === 0 && m.inode !== 0)) {
    warn(`${found.unreadable.length} process(es) could not be inspected (run as root to see every owner)`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}
