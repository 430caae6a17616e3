/**
 * UDP transport (RFC 3261 §18): one bound socket per listen address, IPv4 or IPv6. It only moves datagrams;
 * parsing and Via stamping happen in `layer.ts`.
 */
import dgram from 'node:dgram';
import type { Endpoint } from '../message.js';
import type { Transport } from './transport.js';

/** Called for every datagram received. */
export type DatagramHandler = (buf: Buffer, source: Endpoint, local: Endpoint) => void;

/**
 * Default socket receive and send buffer size asked of the kernel (Linux caps it at `net.core.rmem_max` /
 * `wmem_max`). The usual 208 KiB default holds only ~90 small datagrams on loopback (each costs ~2.3 KiB of
 * buffer); a 100 ms scheduling stall at 1,000 calls/s (≈ 9,000 datagrams/s in) overflows it and the drops turn
 * into retransmissions and failed calls.
 */
export const DEFAULT_UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** One bound UDP socket. */
export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  readonly local: Endpoint;
  readonly #socket: dgram.Socket;
  #closed = false;

  private constructor(socket: dgram.Socket, local: Endpoint) {
    this.#socket = socket;
    this.local = local;
  }

  /**
   * Binds `address:port` (port 0 picks a free one). Rejects on bind failure.
   * @param onDatagram receives every datagram; it must not throw.
   * @param bufferBytes socket receive and send buffer size to ask for (see {@link DEFAULT_UDP_BUFFER_BYTES}).
   */
  static bind(address: string, port: number, onDatagram: DatagramHandler, onError?: (err: Error) => void, bufferBytes = DEFAULT_UDP_BUFFER_BYTES): Promise<UdpTransport> {
    const type = address.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({
      type, reuseAddr: false, ipv6Only: type === 'udp6', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes,
    });
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onBindError);
      socket.bind(port, address, () => {
        socket.off('error', onBindError);
        const a = socket.address();
        const local: Endpoint = { transport: 'udp', address: a.address, port: a.port };
        const t = new UdpTransport(socket, local);
        socket.on('error', (err) => onError?.(err));
        socket.on('message', (buf, rinfo) => {
          onDatagram(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port }, local);
        });
        resolve(t);
      });
    });
  }

  /** Address family of the socket. */
  get family(): 4 | 6 {
    return this.local.address.includes(':') ? 6 : 4;
  }

  /** Sends one datagram; rejects on a socket error (e.g. ICMP unreachable reported synchronously). */
  send(buf: Buffer, dest: { address: string; port: number }): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('UDP transport closed'));
    return new Promise((resolve, reject) => {
      this.#socket.send(buf, dest.port, dest.address, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Closes the socket (idempotent). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
