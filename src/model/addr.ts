// IP addresses as text and as bytes, both ways: RFC 5952 IPv6 text (v4-mapped
// addresses as ::ffff:a.b.c.d) from the kernel's bytes, and the 16 bytes
// inet_diag_sockid holds from any text form. Shared by every source and
// renderer; no I/O.

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

/** Dotted-quad IPv4 into out[at..at+3]; false when s is not one. */
function parseIPv4(s: string, out: Buffer, at: number): boolean {
  let part = 0, n = 0, digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // '.'
      if (digits === 0 || part === 3) return false;
      out[at + part++] = n;
      n = 0; digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || ++digits > 3) return false;
    n = n * 10 + (c - 48);
    if (n > 255) return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = n;
  return true;
}

/** One to four hex digits, or -1. */
function hexGroup(s: string): number {
  if (s.length < 1 || s.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20; // lower case (digits unchanged)
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * An address as inet_diag_sockid holds it: 16 bytes, network order; IPv4 in
 * the first word. IPv6 accepts "::", embedded IPv4 ("::ffff:1.2.3.4") and a
 * "%zone" suffix (dropped). undefined when the text is not an address.
 */
export function addressBytes(address: string, family: 4 | 6): Buffer | undefined {
  const out = Buffer.alloc(16);
  if (family === 4) return parseIPv4(address, out, 0) ? out : undefined;
  let a = address;
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  let words = 8;
  if (a.includes('.')) {
    const c = a.lastIndexOf(':');
    if (c < 0 || !parseIPv4(a.slice(c + 1), out, 12)) return undefined;
    const prefix = a.slice(0, c + 1); // "::ffff:", "::", "64:ff9b::"
    a = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
    words = 6;
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 1 ? head.length !== words : head.length + tail.length >= words) return undefined;
  for (let k = 0; k < head.length; k++) {
    const v = hexGroup(head[k]!);
    if (v < 0) return undefined;
    out.writeUInt16BE(v, 2 * k);
  }
  for (let k = 0; k < tail.length; k++) {
    const v = hexGroup(tail[k]!);
    if (v < 0) return undefined;
    out.writeUInt16BE(v, 2 * (words - tail.length + k));
  }
  return out;
}

/** An address as one family sees it: an IPv4 peer of a dual-stack socket is ::ffff:a.b.c.d there, a.b.c.d on the other side. */
export function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** A key equal for the two sides' views of one endpoint. */
export function endpointKey(address: string, port: number): string {
  return `${plainAddress(address)}|${port}`;
}
