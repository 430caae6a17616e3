/** A host as it stands in a URI, Via or host:port (RFC 3986 §3.2.2): an IPv6 literal in brackets, anything else as is. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
