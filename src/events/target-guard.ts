/**
 * `delivery.refuse_private_targets` at send time (issue 11, SSRF): the configuration check at apply sees only the
 * URL, so a host name that resolves to a loopback, private or link-local address is refused here, after DNS
 * resolution — once before the attempt (a clear reason in the delivery log) and again in the connector's own
 * lookup, so a name that changes its answer between the two (DNS rebinding) is still refused.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { nonPublicAddressKind, nonPublicHostKind } from '../common/index.js';

/**
 * Resolves a host name to every address, as `dns.lookup(name, { all: true })` does; rejects when it cannot. The one
 * seam for name resolution of webhook deliveries: both the check before an attempt and the connection itself use it,
 * so a test can make a name resolve to 127.0.0.1 (or change its answer) without touching /etc/hosts.
 */
export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS). */
export const systemLookup: HostLookup = (hostname) => new Promise((resolve, reject) => {
  dnsLookup(hostname, { all: true }, (err, list) => (err ? reject(err) : resolve(list)));
});

/** Why `url` may not be sent to, or null when it may. Names that do not resolve are left to the attempt to fail. */
export async function refusedTarget(url: string, lookup: HostLookup = systemLookup): Promise<string | null> {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  const literal = nonPublicHostKind(host);
  if (literal) return `refused by delivery.refuse_private_targets: ${host} is ${literal} address`;
  if (/^\[.*\]$/.test(host) || /^[\d.]+$/.test(host)) return null;
  const addresses = await lookup(host).catch((): LookupAddress[] => []);
  for (const a of addresses) {
    const kind = nonPublicAddressKind(a.address);
    if (kind) return `refused by delivery.refuse_private_targets: ${host} resolves to ${kind} address (${a.address})`;
  }
  return null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `net.connect` lookup that fails with `EREFUSED`-style errors for non-public answers while `enabled()` is true
 * (read per connection, so an apply takes effect at once).
 */
export function guardedLookup(enabled: () => boolean, lookup: HostLookup = systemLookup) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    lookup(hostname).then((all) => done(null, family ? all.filter((a) => a.family === family) : all), (err: NodeJS.ErrnoException) => done(err, []));
    function done(err: NodeJS.ErrnoException | null, list: LookupAddress[]): void {
      if (err) return callback(err, options.all ? [] : '', 0);
      if (enabled()) {
        const bad = list.find((a) => nonPublicAddressKind(a.address));
        if (bad) {
          const e: NodeJS.ErrnoException = new Error(`refused by delivery.refuse_private_targets: ${hostname} resolves to ${nonPublicAddressKind(bad.address)} address (${bad.address})`);
          e.code = 'ERR_PRIVATE_TARGET';
          return callback(e, options.all ? [] : '', 0);
        }
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    }
  };
}
