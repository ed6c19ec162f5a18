import { isIP } from 'node:net';

/**
 * SSRF policy for CalDAV URLs chosen by staff: nothing on loopback, link-local, private,
 * shared, unspecified, multicast or reserved networks (including the cloud metadata address
 * and IPv4 embedded in IPv6), unless the operator allow-listed the host, the address or a CIDR
 * (CRENEAU_CALDAV_ALLOW_HOSTS). Pure functions: the transport applies them to the address it
 * actually connects to.
 */

type Bytes = readonly number[];

/** Parses an IPv4 or IPv6 literal (brackets and zone ids tolerated) into bytes. */
export function parseAddress(input: string): Bytes | null {
  const a = input.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(a);
  if (family === 4) return a.split('.').map(Number);
  if (family !== 6) return null;
  let tail: number[] = [];
  let s = a.toLowerCase();
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    tail = (v4[1] as string).split('.').map(Number);
    s = `${s.slice(0, v4.index)}:0:0`;
  }
  const [head = '', rest] = s.split('::');
  const hs = head === '' ? [] : head.split(':');
  const rs = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? hs : [...hs, ...new Array<string>(8 - hs.length - rs.length).fill('0'), ...rs];
  if (groups.length !== 8) return null;
  const bytes: number[] = [];
  for (const g of groups) {
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (v4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function inPrefix(addr: Bytes, net: Bytes, bits: number): boolean {
  if (addr.length !== net.length) return false;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i] as number) & mask) !== ((net[i] as number) & mask)) return false;
  }
  return true;
}

const cidr = (s: string): [Bytes, number] => {
  const [a = '', b = ''] = s.split('/');
  return [parseAddress(a) as Bytes, Number(b)];
};

const V4_FORBIDDEN = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
  '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
].map(cidr);

const V6_FORBIDDEN = [
  '::/128', '::1/128', '100::/64', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8',
].map(cidr);

/** IPv4 carried inside an IPv6 address (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4(a: Bytes): Bytes | null {
  const zero = (from: number, to: number): boolean => a.slice(from, to).every((b) => b === 0);
  if (zero(0, 10) && a[10] === 0xff && a[11] === 0xff) return a.slice(12, 16);
  if (zero(0, 12)) return a.slice(12, 16);
  if (inPrefix(a, cidr('64:ff9b::/96')[0], 96) || inPrefix(a, cidr('64:ff9b:1::/48')[0], 48)) return a.slice(12, 16);
  if (a[0] === 0x20 && a[1] === 0x02) return a.slice(2, 6);
  return null;
}

/** True when an address must never be reached without an allow-list entry. */
export function isForbiddenAddress(address: string): boolean {
  const a = parseAddress(address);
  if (!a) return true;
  if (a.length === 4) return V4_FORBIDDEN.some(([net, bits]) => inPrefix(a, net, bits));
  if (V6_FORBIDDEN.some(([net, bits]) => inPrefix(a, net, bits))) return true;
  const v4 = embeddedV4(a);
  return v4 !== null && V4_FORBIDDEN.some(([net, bits]) => inPrefix(v4, net, bits));
}

export interface AllowList {
  /** The URL's host name (or literal) is listed as such. */
  allowsHost(hostname: string): boolean;
  /** The connected address is listed or inside a listed CIDR. */
  allowsAddress(address: string): boolean;
}

function normalizeHost(h: string): string {
  return h.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** Builds the allow list from host names, IP literals and CIDRs. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const names = new Set<string>();
  const nets: [Bytes, number][] = [];
  for (const raw of entries) {
    const e = normalizeHost(raw);
    if (e === '') continue;
    const slash = e.indexOf('/');
    const addr = parseAddress(slash >= 0 ? e.slice(0, slash) : e);
    if (addr) {
      const bits = slash >= 0 ? Number(e.slice(slash + 1)) : addr.length * 8;
      if (Number.isInteger(bits) && bits >= 0 && bits <= addr.length * 8) nets.push([addr, bits]);
    } else if (slash < 0) {
      names.add(e);
    }
  }
  const matches = (a: Bytes): boolean => nets.some(([net, bits]) => inPrefix(a, net, bits));
  return {
    allowsHost: (hostname) => names.has(normalizeHost(hostname)) || allowsAddr(normalizeHost(hostname)),
    allowsAddress: (address) => allowsAddr(address),
  };
  function allowsAddr(address: string): boolean {
    const a = parseAddress(address);
    if (!a) return false;
    if (matches(a)) return true;
    const v4 = a.length === 16 ? embeddedV4(a) : null;
    return v4 !== null && matches(v4);
  }
}

/** The policy decision for one connection: the host as written and the address connected to. */
export function mayConnect(hostname: string, address: string, allow: AllowList): boolean {
  if (allow.allowsHost(hostname) || allow.allowsAddress(address)) return true;
  return !isForbiddenAddress(address);
}
