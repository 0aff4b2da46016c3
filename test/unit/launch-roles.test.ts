// Pure parts of the issue-13 evidence: which end sent the SYN (linux/tcpinfo.ts sentSyn), the
// JVM's socket -D options wherever the launcher and HotSpot read them (java/jvm.ts), and the
// rows --format knetstat may print (linux/knetstat.ts). The truth harness proves them on real JVMs.
import { describe, expect, it } from 'vitest';
import { argfileTokens, effectiveProperties, hotspotOptionTokens, propertySettings } from '../../src/java/jvm.js';
import { listedInProcNet } from '../../src/linux/knetstat.js';
import { sentSyn } from '../../src/linux/tcpinfo.js';
import type { TcpInfo } from '../../src/model/types.js';

const info = (x: Partial<TcpInfo>): TcpInfo => ({ bytesAcked: 0, bytesSent: 0, bytesRetrans: 0, notsentBytes: 0, ...x } as TcpInfo);

describe('sentSyn: the SYN counted in bytes_acked on the connect() side only', () => {
  it('tells a client from an accepted socket, idle or with data in flight', () => {
    expect(sentSyn(info({ bytesAcked: 1 }), 0, 'ESTABLISHED')).toBe(true);
    expect(sentSyn(info({ bytesAcked: 0 }), 0, 'ESTABLISHED')).toBe(false);
    // 1000 bytes sent, 500 acknowledged, 500 in flight (Send-Q).
    expect(sentSyn(info({ bytesAcked: 501, bytesSent: 1000 }), 500, 'ESTABLISHED')).toBe(true);
    expect(sentSyn(info({ bytesAcked: 500, bytesSent: 1000 }), 500, 'ESTABLISHED')).toBe(false);
    // Retransmissions are not new data; written but unsent bytes are not in flight.
    // 600 bytes sent of which 100 again, 200 acknowledged (+ the SYN), 300 in flight, 200 written but not sent.
    expect(sentSyn(info({ bytesAcked: 201, bytesSent: 600, bytesRetrans: 100, notsentBytes: 200 }), 500, 'ESTABLISHED')).toBe(true);
  });
  it('says nothing without the counters or outside the states that count the SYN', () => {
    expect(sentSyn(undefined, 0, 'ESTABLISHED')).toBeUndefined();
    expect(sentSyn(info({ bytesAcked: undefined }), 0, 'ESTABLISHED')).toBeUndefined();
    expect(sentSyn(info({ bytesAcked: 1 }), 0, 'CLOSE')).toBeUndefined();
    expect(sentSyn(info({ bytesAcked: 7 }), 0, 'ESTABLISHED')).toBeUndefined();
  });
});

describe('preferIPv4Stack where the JVM read it', () => {
  const argv = ['/usr/bin/java', '-cp', 'x', 'Main'];
  it('JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS and _JAVA_OPTIONS, the last one read winning', () => {
    const env = { JAVA_TOOL_OPTIONS: '-Djava.net.preferIPv4Stack=true' };
    expect(effectiveProperties(propertySettings({ argv, env, feature: 17 })).origins).toEqual({ 'java.net.preferIPv4Stack': 'JAVA_TOOL_OPTIONS' });
    const later = propertySettings({ argv: ['/usr/bin/java', '-Djava.net.preferIPv4Stack=false', 'Main'], env: { ...env, _JAVA_OPTIONS: "'-Djava.net.preferIPv4Stack=true'" }, feature: 17 });
    expect(effectiveProperties(later).properties['java.net.preferIPv4Stack']).toBe('true');
    expect(effectiveProperties(later).origins['java.net.preferIPv4Stack']).toBe('_JAVA_OPTIONS');
    expect(effectiveProperties(propertySettings({ argv, env: { JDK_JAVA_OPTIONS: '-Djava.net.preferIPv4Stack=true' }, feature: 17 })).origins).toEqual({ 'java.net.preferIPv4Stack': 'JDK_JAVA_OPTIONS' });
    // Not after the main class: the application's own arguments.
    expect(propertySettings({ argv: [...argv, '-Djava.net.preferIPv4Stack=true'], feature: 17 })).toEqual([]);
  });
  it('an @argfile, tokenised as the launcher does (quotes, comments, continued lines)', () => {
    expect(argfileTokens('# comment\n-cp "a b.jar" \'-Djava.net.preferIPv4Stack=tr\\\n   ue\'\nMain')).toEqual(['-cp', 'a b.jar', '-Djava.net.preferIPv4Stack=true', 'Main']);
    const s = propertySettings({ argv: ['/usr/bin/java', '@opts', 'Main'], argfile: (p) => (p === 'opts' ? '-Djava.net.preferIPv4Stack=true\n' : undefined), feature: 17 });
    expect(s).toEqual([{ name: 'java.net.preferIPv4Stack', value: 'true', from: 'argfile', file: 'opts' }]);
  });
  it('the JVM\'s own record (hsperfdata java.rt.vmArgs) decides, and names what no other source showed', () => {
    expect(propertySettings({ argv, vmArgs: '-Xmx1g -Djava.net.preferIPv4Stack=true', feature: 17 })).toEqual([{ name: 'java.net.preferIPv4Stack', value: 'true', from: 'hsperfdata' }]);
    expect(hotspotOptionTokens(' -Da="x y"  -Db=1 ')).toEqual(['-Da=x y', '-Db=1']);
  });
});

describe('--format knetstat lists what /proc/net lists', () => {
  it('no TCP socket in CLOSE, no UDP socket without a port', () => {
    expect(listedInProcNet('tcp', 'CLOSE', 0)).toBe(false);
    expect(listedInProcNet('tcp6', 'ESTABLISHED', 4000)).toBe(true);
    expect(listedInProcNet('udp', 'UNCONN', 0)).toBe(false);
    expect(listedInProcNet('udp6', 'UNCONN', 5353)).toBe(true);
  });
});
