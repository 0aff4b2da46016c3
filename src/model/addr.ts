// Address formatting shared by every source: RFC 5952 IPv6 text, with
// v4-mapped addresses as ::ffff:a.b.c.d.

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatIPv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  // Longest run of two or more zero words becomes "::" (first one on ties).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

/** "127.0.0.1:8080", "[::1]:8080", "*:*"-free: used by the text renderers. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** /proc/net/tcp's hex address: 32-bit words printed in host byte order (little-endian here). */
export function parseProcAddress(hex: string): { address: string; port: number } {
  const [a, p] = hex.split(':');
  if (!a || !p || (a.length !== 8 && a.length !== 32)) throw new Error(`bad address '${hex}'`);
  const bytes = new Uint8Array(a.length / 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length / 8; i++) view.setUint32(i * 4, parseInt(a.slice(i * 8, i * 8 + 8), 16), true);
  const port = parseInt(p, 16);
  if (!Number.isFinite(port)) throw new Error(`bad port in '${hex}'`);
  return { address: a.length === 8 ? formatIPv4(bytes) : formatIPv6(bytes), port };
}
