/**
 * `delivery.refuse_private_targets` at send time (issue 11, SSRF): the configuration check at apply sees only the
 * URL, so a host name that resolves to a loopback, private or link-local address is refused here, after DNS
 * resolution — once before the attempt (a clear reason in the delivery log) and again in the connector's own
 * lookup, so a name that changes its answer between the two (DNS rebinding) is still refused.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { nonPublicAddressKind, nonPublicHostKind } from '../common/private-address.js';

/** Why `url` may not be sent to, or null when it may. Names that do not resolve are left to the attempt to fail. */
export async function refusedTarget(url: string): Promise<string | null> {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  const literal = nonPublicHostKind(host);
  if (literal) return `refused by delivery.refuse_private_targets: ${host} is ${literal} address`;
  if (/^\[.*\]$/.test(host) || /^[\d.]+$/.test(host)) return null;
  const addresses = await new Promise<LookupAddress[]>((resolve) => {
    dnsLookup(host, { all: true }, (err, list) => resolve(err ? [] : list));
  });
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
export function guardedLookup(enabled: () => boolean) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true } as { all: true }, (err, list) => {
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
    });
  };
}
