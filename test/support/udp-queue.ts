/**
 * What the kernel has delivered to a UDP socket that nobody reads: SIPp without -rtp_echo binds its media port and
 * never reads it, so the RTP the PBX relays to a SIPp party piles up in that socket's receive queue (and, once the
 * queue is full, in its drop counter). Linux's /proc/net/udp shows both per socket; that is the SIPp side's
 * received RTP, counted without capturing on the interface.
 */
import { readFileSync } from 'node:fs';

export interface UdpQueue {
  /** Bytes queued (the kernel's accounting: each datagram costs its buffer's true size, not only its payload). */
  queuedBytes: number;
  /** Datagrams dropped because the queue was full. */
  drops: number;
}

/** The receive queue of the IPv4 socket bound to `address:port`, or null when no such socket exists. */
export function udpQueue(port: number, address = '127.0.0.1'): UdpQueue | null {
  const hex = address.split('.').reverse().map((o) => Number(o).toString(16).padStart(2, '0')).join('').toUpperCase();
  const local = `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    if (f[1] !== local) continue;
    const rx = parseInt(f[4]!.split(':')[1]!, 16);
    return { queuedBytes: rx, drops: Number(f[12] ?? 0) };
  }
  return null;
}
