// Runs the built CLI (dist/) as a user would, capturing exit code and output.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './jvm.js';

/** The command under test: dist/ as tsc built it, or KNETSTAT_CLI (dist/start.cjs, the bundle the package's command runs). */
export const CLI = process.env.KNETSTAT_CLI ?? join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: SpawnSyncOptions & { wrapper?: string[] } = {}): CliResult {
  const [cmd, ...pre] = opts.wrapper ? [...opts.wrapper, process.execPath] : [process.execPath];
  const r = spawnSync(cmd!, [...pre, CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 120_000, ...opts });
  return { code: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export function reportJson(pid: number, extra: string[] = []): any {
  const r = runCli([String(pid), '--format', 'json', ...extra]);
  if (r.code !== 0 && r.code !== 3) throw new Error(`knetstat-java exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The socket of a report with this local port (and remote port, for connections). */
export function byPorts(report: any, localPort: number, remotePort?: number): any {
  const s = report.sockets.find((x: any) => x.local.port === localPort && (remotePort === undefined || x.remote.port === remotePort));
  if (!s) throw new Error(`no socket with local port ${localPort}${remotePort !== undefined ? ` and remote ${remotePort}` : ''}`);
  return s;
}
