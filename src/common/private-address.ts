/**
 * Which IP addresses are not on the public Internet: loopback, private (RFC 1918, RFC 4193), link-local, shared
 * (RFC 6598), unspecified, multicast and reserved blocks (the IANA special-purpose registries, RFC 6890). A webhook
 * sent to one of them reaches the PBX host or its LAN, which is what server-side request forgery (SSRF) exploits.
 */
import { BlockList, isIP } from 'node:net';

const V4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'an unspecified ("this network")'],
  ['10.0.0.0', 8, 'a private'],
  ['100.64.0.0', 10, 'a shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'a loopback'],
  ['169.254.0.0', 16, 'a link-local'],
  ['172.16.0.0', 12, 'a private'],
  ['192.0.0.0', 24, 'an IETF protocol'],
  ['192.168.0.0', 16, 'a private'],
  ['198.18.0.0', 15, 'a benchmarking'],
  ['224.0.0.0', 4, 'a multicast'],
  ['240.0.0.0', 4, 'a reserved'],
];
const V6: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 128, 'an unspecified'],
  ['::1', 128, 'a loopback'],
  ['64:ff9b:1::', 48, 'a local-use NAT64'],
  ['fc00::', 7, 'a unique local (private)'],
  ['fe80::', 10, 'a link-local'],
  ['ff00::', 8, 'a multicast'],
];

/** One BlockList per kind, so the answer can name it. */
const LISTS = [...V4.map(([a, p, k]) => [a, p, k, 'ipv4'] as const), ...V6.map(([a, p, k]) => [a, p, k, 'ipv6'] as const)].map(([address, prefix, kind, family]) => {
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return { list, kind, family };
});

/**
 * IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) are judged by that
 * address. Canonical text from the URL parser turns every spelling into hex groups.
 */
function embeddedV4(address: string): string | null {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const m = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return null;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * What kind of non-public address `address` is (`'a loopback'`, `'a private'`, …), or null for a public one or
 * something that is not an IP address. Zone ids (`fe80::1%eth0`) and brackets are ignored.
 */
export function nonPublicAddressKind(address: string): string | null {
  let text = address.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let family = isIP(text);
  if (family === 0) return null;
  if (family === 6) {
    const v4 = embeddedV4(text);
    if (v4 !== null) {
      text = v4;
      family = 4;
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, kind, family: f } of LISTS) if (f === type && list.check(text, type)) return kind;
  return null;
}

/**
 * For a URL's host: the kind of non-public target it names without DNS (an IP literal in a non-public block, or
 * `localhost` and its subdomains, RFC 6761 §6.3), or null when only DNS can tell.
 */
export function nonPublicHostKind(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'a loopback';
  return nonPublicAddressKind(host);
}
