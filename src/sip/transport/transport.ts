/**
 * The one transport interface (RFC 3261 §18): every transport — UDP, TCP, WebSocket — is a peer behind it, so the
 * layers above ask `reliable` and `protocol` instead of comparing against a list of names. A new transport is one new
 * file implementing {@link Transport}.
 */

/**
 * Transport names as they appear lower-cased in a Via (`SIP/2.0/UDP`) or a `;transport=` URI parameter; `ws` and
 * `wss` are RFC 7118's (SIP over WebSocket, cleartext and TLS).
 */
export type TransportProtocol = 'udp' | 'tcp' | 'ws' | 'wss';

/** Where a message came from or goes to. */
export interface Endpoint {
  transport: TransportProtocol;
  address: string;
  port: number;
}

/** Every transport protocol this stack can bind. */
export const TRANSPORT_PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'ws', 'wss'];

/**
 * Whether a transport protocol is reliable (§17.1.1.1: a reliable transport carries retransmissions itself, so Timer
 * A/E/G never fire and D/I/J/K are zero; §18.2.2: responses go back on the connection the request came on).
 */
export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'udp';
}

/**
 * Whether we can open a connection (or send a datagram) to a peer of this protocol. A WebSocket peer (a browser) is
 * only reachable over the connection it opened to us (RFC 7118 §5, RFC 5626 flows): its Contact host is a made-up
 * `.invalid` name, so requests to it go to the flow, never to its URI.
 */
export function isDialable(protocol: TransportProtocol): boolean {
  return protocol === 'udp' || protocol === 'tcp';
}

/** A transport protocol named in a Via or a URI parameter (case-insensitive), or undefined when we have none by that name. */
export function transportProtocolOf(name: string | null | undefined): TransportProtocol | undefined {
  const t = name?.toLowerCase();
  return (TRANSPORT_PROTOCOLS as readonly string[]).includes(t ?? '') ? (t as TransportProtocol) : undefined;
}

/** One bound transport: a listening address and what it sends. */
export interface Transport {
  readonly protocol: TransportProtocol;
  /** See {@link isReliable}. */
  readonly reliable: boolean;
  /** The bound address and port. */
  readonly local: Endpoint;
  /**
   * Sends one message's bytes to `dest`; a connection-oriented transport uses `connectionId` when that connection is
   * still open. Rejects on a transport error.
   */
  send(buf: Buffer, dest: { address: string; port: number }, connectionId?: string): Promise<void>;
  /** Closes the transport and its connections (idempotent). */
  close(): Promise<void>;
}
