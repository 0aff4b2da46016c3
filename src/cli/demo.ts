// npm run demo: compile the bundled sample JVM (samples/java/SocketLab.java),
// start it with a typical mix of sockets, report on it, stop it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../mappings.js';
import { exitFor } from './exit.js';
import { reportCommand } from './commands/report.js';

const SOCKETS = [
  'web:server:backlog=128,child.tcpNoDelay,child.keepAlive',
  'db:client:keepAlive,keepIdle=60,keepInterval=10,keepCount=3,tcpNoDelay,rcvBuf=262144',
  'rst:client:soLinger=0',
  'metrics:udp:broadcast=false,trafficClass=0x10',
  'disco:mcast6:ttl=4',
];

async function demo(): Promise<number> {
  const classes = join(PROJECT_ROOT, 'build', 'demo');
  mkdirSync(classes, { recursive: true });
  process.stderr.write('demo: compiling samples/java/SocketLab.java\n');
  execFileSync('javac', ['-d', classes, join(PROJECT_ROOT, 'samples', 'java', 'SocketLab.java')], { stdio: 'inherit' });
  const jvm = spawn('java', ['-Xmx64m', '-cp', classes, 'SocketLab', ...SOCKETS], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      createInterface({ input: jvm.stdout! }).on('line', (l) => {
        if (l.startsWith('READY ')) resolve(JSON.parse(l.slice(6)).pid);
      });
      jvm.on('exit', (c) => reject(new Error(`the sample JVM exited with ${c}`)));
    });
    process.stderr.write(`demo: sample JVM running as pid ${pid} with sockets: ${SOCKETS.join('  ')}\n`);
    process.stderr.write(`demo: knetstat-java ${pid}\n\n`);
    return await reportCommand(String(pid), { format: process.argv[2] ?? 'text', source: 'auto', quiet: true });
  } finally {
    jvm.stdin?.end();
    jvm.kill('SIGTERM');
  }
}

demo().then((code) => { process.exitCode = code; }, (err) => { process.exitCode = exitFor(err); });
